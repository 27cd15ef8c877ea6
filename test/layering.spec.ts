import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkNoImportsInto, checkPlugin, findImportCycles, importsOf, sourceFiles } from './support/import-rules';

const root = path.resolve(__dirname, '..');
const pluginDirs = fs
  .readdirSync(path.join(root, 'plugins'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => path.join(root, 'plugins', d.name));

describe('layering (DESIGN.md)', () => {
  it('finds the three built-in plugins with sources', () => {
    expect(pluginDirs.map((d) => path.basename(d)).sort()).toEqual(expect.arrayContaining(['metastatic', 'openstack', 'static']));
    for (const dir of pluginDirs) expect(sourceFiles(dir).length).toBeGreaterThan(0);
  });

  it.each(pluginDirs.map((d) => [path.basename(d), d]))('plugin %s imports only the SDK and npm packages', (_name, dir) => {
    expect(checkPlugin(dir)).toEqual([]);
  });

  it('the kernel does not import plugins', () => {
    expect(checkNoImportsInto(path.join(root, 'src/kernel'), [path.join(root, 'plugins')], 'kernel must not import plugins')).toEqual([]);
  });

  it('the CLI and the web app do not import plugins; the web app does not import the engine', () => {
    const pluginsDir = path.join(root, 'plugins');
    expect(checkNoImportsInto(path.join(root, 'src/cli'), [pluginsDir], 'CLI must not import plugins')).toEqual([]);
    expect(checkNoImportsInto(path.join(root, 'src/web'), [pluginsDir, path.join(root, 'src/launcher'), path.join(root, 'src/cli')], 'web must use only zk, kernel, plugins SDK, status')).toEqual([]);
  });

  it('the status listings (shared by CLI and web) use only the ZooKeeper models', () => {
    const forbidden = ['kernel', 'launcher', 'cli', 'web', 'plugins'].map((d) => path.join(root, 'src', d)).concat(path.join(root, 'plugins'));
    expect(checkNoImportsInto(path.join(root, 'src/status'), forbidden, 'status must stay a leaf over src/zk')).toEqual([]);
  });

  it('the SDK (and so the @nodepool-ts/sdk package and its testing entry) does not import the kernel, ZooKeeper layer, engine, CLI or web', () => {
    const forbidden = ['kernel', 'zk', 'launcher', 'cli', 'web'].map((d) => path.join(root, 'src', d));
    expect(checkNoImportsInto(path.join(root, 'src/plugins'), forbidden, 'SDK must not depend on implementations')).toEqual([]);
  });
});

describe('no import cycles (the code style: not even between two files)', () => {
  it('none in the sources, plugins, tests, benchmarks and the example driver', () => {
    const files = ['src', 'plugins', 'test', 'bench', 'examples/local-driver/src', 'examples/local-driver/test'].flatMap((d) => sourceFiles(path.join(root, d)));
    expect(files.length).toBeGreaterThan(300);
    expect(findImportCycles(files).map((cycle) => cycle.map((f) => path.relative(root, f)).join(' → '))).toEqual([]);
  });
});

describe('the @nodepool-ts/sdk package and the example driver', () => {
  it('the package is built from the SDK sources alone (src/plugins), so the rule above covers it', () => {
    const dir = path.join(root, 'packages/sdk');
    const build = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.build.json'), 'utf8')) as { files: string[]; include: string[]; compilerOptions: { rootDir: string } };
    const sdk = path.join(root, 'src/plugins');
    expect(path.resolve(dir, build.compilerOptions.rootDir)).toBe(sdk);
    expect(build.include).toEqual([]);
    for (const file of build.files) expect(path.relative(sdk, path.resolve(dir, file)).startsWith('..')).toBe(false);
  });

  it('the example driver imports only @nodepool-ts/sdk (and its testing entry), npm packages and its own files', () => {
    const dir = path.join(root, 'examples/local-driver');
    const files = ['src', 'test'].flatMap((d) => sourceFiles(path.join(dir, d)));
    expect(files.length).toBeGreaterThan(0);
    expect(checkPlugin(dir, files).filter((v) => v.specifier !== '@nodepool-ts/sdk/testing')).toEqual([]);
  });
});

describe('the layering rules catch violations', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function write(rel: string, text: string): string {
    const file = path.join(tmp, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  }

  it('parses import, export-from, side-effect import, require and dynamic import', () => {
    expect(importsOf(`import a from 'x';\nexport * from "./y";\nimport 'z';\nconst q = require('r');\nawait import('s');\n// import 'commented'`)).toEqual(['x', './y', 'z', 'r', 's']);
  });

  it('flags a plugin reaching into kernel internals or another plugin', () => {
    const dir = path.join(tmp, 'plugins', 'bad');
    write('plugins/bad/src/ok.ts', `import { ContainerModule } from '@nodepool-ts/sdk';\nimport yaml from 'js-yaml';\nimport { x } from './local';`);
    write('plugins/bad/src/local.ts', 'export const x = 1;');
    write('plugins/bad/src/evil.ts', `import { Kernel } from '../../../src/kernel/kernel';\nimport other from '@nodepool-ts/plugin-static';\nconst z = require('../../other/src/index');`);
    const specs = checkPlugin(dir).map((v) => v.specifier).sort();
    expect(specs).toEqual(['../../../src/kernel/kernel', '../../other/src/index', '@nodepool-ts/plugin-static']);
  });

  it('flags the kernel importing a plugin', () => {
    write('src/kernel/k.ts', `import '../../plugins/static/src/index';`);
    const v = checkNoImportsInto(path.join(tmp, 'src/kernel'), [path.join(tmp, 'plugins')], 'rule');
    expect(v).toHaveLength(1);
  });

  it('finds a cycle of two files, a longer one through a type-only import, and not a chain', () => {
    const files = [
      write('a.ts', `import { b } from './b';\nexport const a = 1;`),
      write('b.ts', `export { a } from './a';\nexport const b = 2;`),
      write('c/index.ts', `import type { D } from '../d';`),
      write('d.ts', `import { e } from './e';\nexport type D = number;`),
      write('e.ts', `import './c';\nexport const e = 1;`),
      write('f.ts', `import { a } from './a';`),
    ];
    const cycles = findImportCycles(files).map((c) => c.map((f) => path.relative(tmp, f)));
    expect(cycles.sort()).toEqual([['a.ts', 'b.ts'], ['c/index.ts', 'd.ts', 'e.ts']]);
  });
});
