/**
 * Builds the example out-of-tree driver (examples/local-driver) the way its author would, but
 * offline: the SDK comes only from the tarball `npm pack` makes of packages/sdk, installed with
 * `npm ci --offline` from a lockfile whose third-party entries are the repository's own (so the
 * npm cache that `npm ci` filled has every tarball). The author's tools (typescript, jest and
 * their types) are linked from the repository's node_modules instead of installed.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const SDK_DIR = path.join(ROOT, 'packages/sdk');
export const EXAMPLE_DIR = path.join(ROOT, 'examples/local-driver');
/** Dev tools of the example, linked rather than installed. */
const LINKED_TOOLS = ['typescript', 'jest', '@types/jest', '@types/node'];

type LockEntry = { version?: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; [k: string]: unknown };

/** `npm pack` of packages/sdk into `dest` (its prepack builds dist/); returns the tarball path. */
export function packSdk(dest: string): string {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest, '--loglevel=error'], { cwd: SDK_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const json = out.slice(out.indexOf('['));
  const [{ filename }] = JSON.parse(json) as Array<{ filename: string }>;
  return path.join(dest, filename);
}

/**
 * The lockfile entries of `deps` and everything they need, taken from the repository's lock, with
 * node's lookup (nested `node_modules/<parent>/node_modules/<name>` first, then hoisted).
 */
function closure(lock: Record<string, LockEntry>, deps: Record<string, string>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, optional: boolean): void => {
    let dir = from;
    for (;;) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock[key]) {
        if (out[key]) return;
        out[key] = lock[key];
        const entry = lock[key];
        for (const d of Object.keys(entry.dependencies ?? {})) visit(key, d, false);
        for (const d of Object.keys(entry.optionalDependencies ?? {})) visit(key, d, true);
        return;
      }
      if (!dir) break;
      const at = dir.lastIndexOf('/node_modules/');
      dir = at < 0 ? '' : dir.slice(0, at);
    }
    if (!optional) throw new Error(`${name} (needed below ${from || 'the root'}) is not in package-lock.json`);
  };
  for (const name of Object.keys(deps)) visit('', name, false);
  return out;
}

/**
 * Copies the example into `work/local-driver`, installs `tarball` as its `@nodepool-ts/sdk` with
 * `npm ci --offline`, links the tools; returns the example folder.
 */
export function installExample(work: string, tarball: string): string {
  const dir = path.join(work, 'local-driver');
  fs.mkdirSync(dir, { recursive: true });
  for (const item of ['package.json', 'tsconfig.json', 'jest.config.js', 'src', 'test']) {
    fs.cpSync(path.join(EXAMPLE_DIR, item), path.join(dir, item), { recursive: true });
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; devDependencies?: Record<string, string> };
  const sdkRef = `file:${path.relative(dir, tarball)}`;
  pkg.dependencies = { ...pkg.dependencies, '@nodepool-ts/sdk': sdkRef };
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));

  const rootLock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const sdkPkg = JSON.parse(fs.readFileSync(path.join(SDK_DIR, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, unknown>; license?: string };
  const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
  const thirdParty = closure(rootLock.packages, sdkPkg.dependencies);
  const lock = {
    name: pkg.name,
    version: pkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies },
      'node_modules/@nodepool-ts/sdk': {
        version: sdkPkg.version, resolved: sdkRef, integrity, license: sdkPkg.license,
        dependencies: sdkPkg.dependencies, peerDependencies: sdkPkg.peerDependencies, peerDependenciesMeta: sdkPkg.peerDependenciesMeta,
      },
      ...Object.fromEntries(Object.entries(thirdParty).map(([k, v]) => [k, { ...v, dev: undefined, devOptional: undefined, peer: undefined }])),
    },
  };
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  execFileSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  for (const tool of LINKED_TOOLS) {
    const link = path.join(dir, 'node_modules', tool);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', tool), link, 'dir');
  }
  return dir;
}
