/**
 * `nodepool export-image-data FILE` / `import-image-data FILE` (nodepoolcmd.py, ZooKeeper
 * `exportImageData`/`importImageData`): a backup of the builder's records as one JSON object,
 * znode path to body text: each image's `pause` flag (`""`), each build and each upload (the
 * `lock` dirs left out). Import writes them back (set where the znode exists, else created with
 * its parents) after bumping each upload dir's sequence past the highest imported upload number,
 * so the builder's next upload cannot collide with an imported one. Like Nodepool's, the import
 * takes no locks: run it on a quiet system.
 */
import fs from 'node:fs';
import { pythonJsonDumps } from '../status/python-format';
import type { NodepoolZk } from '../zk/nodepool-zk';
import { NoNodeError } from '../zk/zk-errors';
import { CliError } from './cli-error';

const IMAGE_ROOT = '/nodepool/images';

async function children(zk: NodepoolZk, path: string): Promise<string[]> {
  try {
    return (await zk.client.getChildren(path)).sort();
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}

async function body(zk: NodepoolZk, path: string): Promise<string | undefined> {
  try {
    return (await zk.client.get(path)).data?.toString('utf8') ?? '';
  } catch (err) {
    if (err instanceof NoNodeError) return undefined;
    throw err;
  }
}

/** The export, in Nodepool's order: per image its pause flag, then each build and its uploads. */
export async function exportImageData(zk: NodepoolZk): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const image of await children(zk, IMAGE_ROOT)) {
    const imagePath = `${IMAGE_ROOT}/${image}`;
    if (await zk.client.exists(`${imagePath}/pause`)) out[`${imagePath}/pause`] = '';
    for (const build of (await children(zk, `${imagePath}/builds`)).filter((b) => b !== 'lock')) {
      const buildPath = `${imagePath}/builds/${build}`;
      const data = await body(zk, buildPath);
      if (data === undefined) continue;
      out[buildPath] = data;
      for (const provider of await children(zk, `${buildPath}/providers`)) {
        const dir = `${buildPath}/providers/${provider}/images`;
        for (const upload of (await children(zk, dir)).filter((u) => u !== 'lock')) {
          const upData = await body(zk, `${dir}/${upload}`);
          if (upData !== undefined) out[`${dir}/${upload}`] = upData;
        }
      }
    }
  }
  return out;
}

/** `export-image-data FILE`: the file is created private (0600), as Nodepool's. */
export async function exportImageDataCommand(zk: NodepoolZk, file: string): Promise<number> {
  const data = await exportImageData(zk);
  try {
    const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_TRUNC, 0o600);
    try {
      fs.writeSync(fd, pythonJsonDumps(data));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
  return 0;
}

/** Reads and checks an export: an object of image record paths to strings. */
export function readImageData(file: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file}: cannot read the image data: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError(`${file}: expected a JSON object of znode paths to record text`);
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value !== 'string') throw new CliError(`${file}: ${key}: expected the record as a string`);
    const parts = key.split('/');
    // Only the builder's records: an import must not write elsewhere in the tree.
    if (!key.startsWith(`${IMAGE_ROOT}/`) || parts.some((p, i) => i > 0 && (p === '' || p === '.' || p === '..'))) {
      throw new CliError(`${file}: ${key}: not an image record path under ${IMAGE_ROOT}`);
    }
    if (parts.length === 10 && !/^\d+$/.test(parts[9])) throw new CliError(`${file}: ${key}: an upload's name must be its sequence number`);
  }
  return doc as Record<string, string>;
}

/** `import-image-data FILE`. */
export async function importImageDataCommand(zk: NodepoolZk, file: string): Promise<number> {
  const data = readImageData(file);
  // Sequence numbers live in the parent: create (and drop) sequential children up to the highest
  // imported upload number, so later builder uploads are numbered above it.
  const highest = new Map<string, number>();
  for (const key of Object.keys(data)) {
    const parts = key.split('/');
    if (parts.length !== 10) continue;
    const dir = parts.slice(0, 9).join('/');
    highest.set(dir, Math.max(highest.get(dir) ?? 0, Number.parseInt(parts[9], 10)));
  }
  for (const [dir, num] of highest) {
    for (let i = 0; i < num; i++) {
      const created = await zk.client.create(`${dir}/`, undefined, { sequential: true, makeParents: true });
      if (!(created in data)) await zk.client.delete(created);
    }
  }
  for (const [key, text] of Object.entries(data)) {
    const value = Buffer.from(text, 'utf8');
    if (await zk.client.exists(key)) await zk.client.set(key, value);
    else await zk.client.create(key, value, { makeParents: true });
  }
  return 0;
}
