/**
 * `nodepool export-image-data FILE` / `import-image-data FILE` on builder records shaped like a
 * Python nodepool-builder writes them (uuid builds, sequential uploads, kazoo `lock` dirs, the
 * `pause` and `request-build` flags): the export's content and mode, a round trip through an
 * emptied tree with the upload sequence moved past the imported uploads, bad files refused with
 * the file and key named; and, with the real Python Nodepool, both exports agree and ours imports
 * Python's file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import { quietLogger } from '../../src/cli/cli-zk';
import type { ZooKeeperClient } from '../../src/plugins/zookeeper';
import { ZkClient } from '../../src/zk/zk-client';
import { runPythonCli } from '../support/nodepool-peer';
import { describeWithPeer } from '../support/peer-fixture';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

const UBUNTU = '5f0c2a7e9d1b4c3a8e6f7a9b0c1d2e3f';
const CENTOS = '0123456789ab4cdeaf0123456789abcd';
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** The builder's tree: what an export must contain, in Nodepool's order, and what it must not. */
async function writeBuilderTree(client: ZooKeeperClient): Promise<Record<string, string>> {
  const expected: Record<string, string> = {};
  const put = async (p: string, body?: Buffer): Promise<void> => {
    await client.create(p, body, { makeParents: true });
  };
  const centos = `/nodepool/images/centos/builds/${CENTOS}`;
  await put('/nodepool/images/centos/request-build');
  await put(centos, json({ state: 'ready', builder: 'bü-01', formats: 'qcow2' }));
  expected[centos] = JSON.stringify({ state: 'ready', builder: 'bü-01', formats: 'qcow2' });
  for (const provider of ['p1', 'p2']) {
    const dir = `${centos}/providers/${provider}/images`;
    await client.ensurePath(`${dir}/lock`);
    const upload = await client.create(`${dir}/`, json({ state: 'ready', external_id: `img-${provider}` }), { sequential: true });
    expected[upload] = JSON.stringify({ state: 'ready', external_id: `img-${provider}` });
  }
  const ubuntu = `/nodepool/images/ubuntu/builds/${UBUNTU}`;
  await put('/nodepool/images/ubuntu/pause');
  expected['/nodepool/images/ubuntu/pause'] = '';
  await client.ensurePath('/nodepool/images/ubuntu/builds/lock');
  await put(ubuntu, json({ state: 'building' }));
  await client.ensurePath(`${ubuntu}/lock`);
  expected[ubuntu] = JSON.stringify({ state: 'building' });
  const dir = `${ubuntu}/providers/p1/images`;
  await client.ensurePath(`${dir}/lock`);
  for (const state of ['ready', 'uploading']) {
    const upload = await client.create(`${dir}/`, json({ state }), { sequential: true });
    expected[upload] = JSON.stringify({ state });
  }
  return expected;
}

async function cli(config: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
  const code = await nodepoolMain(['-c', config, ...args], r as CliIo);
  return { code, out: r.out, err: r.err };
}

async function readTree(client: ZooKeeperClient, keys: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = (await client.get(key)).data?.toString('utf8') ?? '';
  return out;
}

describe('export-image-data / import-image-data', () => {
  let server: ZooKeeperServer;
  let client: ZkClient;
  let tmp: string;
  let config: string;
  let expected: Record<string, string>;

  beforeAll(async () => {
    server = await startZooKeeper();
    client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
    await client.connect();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-data-'));
    config = path.join(tmp, 'nodepool.yaml');
    fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels: []\nproviders: []\n`);
    expected = await writeBuilderTree(client);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exports pause flags, builds and uploads (no locks, no build requests) as Python json.dump, file mode 0600', async () => {
    const file = path.join(tmp, 'export.json');
    expect(await cli(config, ['export-image-data', file])).toEqual({ code: 0, out: '', err: '' });
    const text = fs.readFileSync(file, 'utf8');
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(expected));
    expect(JSON.parse(text)).toEqual(expected);
    // json.dump: ", " and ": " separators, non-ASCII escaped, no trailing newline.
    expect(text).toContain(`{"/nodepool/images/centos/builds/${CENTOS}": "{\\"state\\":\\"ready\\",\\"builder\\":\\"b\\u00fc-01\\",`);
    expect(text.endsWith('"}')).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('imports into an emptied tree, and the builder\'s next upload is numbered past the imported ones', async () => {
    const file = path.join(tmp, 'export.json');
    await client.deleteRecursive('/nodepool/images');
    expect(await cli(config, ['import-image-data', file])).toEqual({ code: 0, out: '', err: '' });
    expect(await readTree(client, Object.keys(expected))).toEqual(expected);
    const dir = `/nodepool/images/ubuntu/builds/${UBUNTU}/providers/p1/images`;
    const imported = Object.keys(expected).filter((k) => k.startsWith(`${dir}/`)).map((k) => k.slice(dir.length + 1));
    expect(imported).toHaveLength(2);
    expect((await client.getChildren(dir)).sort()).toEqual(imported);
    // Without the sequence moved on, ZooKeeper would hand out 0000000000 next (dir re-created).
    const next = await client.create(`${dir}/`, undefined, { sequential: true });
    expect(Number(next.slice(dir.length + 1))).toBeGreaterThan(Math.max(...imported.map(Number)));
  });

  it('image-unpause of an image ZooKeeper does not know is a silent no-op; a dib image id without a dash is refused (as Nodepool)', async () => {
    expect(await cli(config, ['image-unpause', 'nosuch'])).toEqual({ code: 0, out: '', err: '' });
    expect(await cli(config, ['dib-image-delete', 'nodash'])).toEqual({ code: 1, out: '', err: 'nodepool: nodash: not a dib image id (IMAGE-BUILD_ID, as dib-image-list shows it)\n' });
  });

  it('refuses a file that is not an export, naming the file and the key', async () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ '/nodepool/nodes/0000000001': '{}' }));
    const r = await cli(config, ['import-image-data', bad]);
    expect(r).toEqual({ code: 1, out: '', err: `nodepool: ${bad}: /nodepool/nodes/0000000001: not an image record path under /nodepool/images\n` });
    expect(await client.exists('/nodepool/nodes/0000000001')).toBeNull();
    fs.writeFileSync(bad, '[1]');
    expect((await cli(config, ['import-image-data', bad])).err).toBe(`nodepool: ${bad}: expected a JSON object of znode paths to record text\n`);
  });
});

describeWithPeer('export-image-data / import-image-data beside Python Nodepool', (fx) => {
  it('both exports agree, and ours imports Python\'s file', async () => {
    const config = fx.config('image-data', 'labels: []\nproviders: []\n');
    const expected = await writeBuilderTree(fx.client);
    const dir = path.dirname(config);
    const theirs = path.join(dir, 'python-export.json');
    const ours = path.join(dir, 'our-export.json');
    const py = await runPythonCli(fx.source, config, ['export-image-data', theirs]);
    expect(py.stderr).not.toMatch(/Traceback/);
    expect(py.code).toBe(0);
    expect((await cli(config, ['export-image-data', ours])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(ours, 'utf8'))).toEqual(JSON.parse(fs.readFileSync(theirs, 'utf8')));

    await fx.client.deleteRecursive('/nodepool/images');
    expect((await cli(config, ['import-image-data', theirs])).code).toBe(0);
    expect(await readTree(fx.client, Object.keys(expected))).toEqual(expected);
  });
});
