import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverPlugins } from './plugin-discovery';
import { checkSdkRange, SDK_VERSION, satisfiesSdkRange } from './sdk-range';

describe('SDK version and manifest ranges', () => {
  it('the kernel SDK version is the version of the @nodepool-ts/sdk package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../packages/sdk/package.json'), 'utf8')) as { name: string; version: string };
    expect(pkg.name).toBe('@nodepool-ts/sdk');
    expect(SDK_VERSION).toBe(pkg.version);
  });

  it.each([
    ['1.0.0', '^1.0.0', true], ['1.4.2', '^1.0.0', true], ['2.0.0', '^1.0.0', false], ['0.9.9', '^1.0.0', false],
    ['1.2.9', '~1.2.3', true], ['1.3.0', '~1.2.3', false], ['1.2.2', '~1.2.3', false],
    ['1.5.0', '>=1.2.0 <2', true], ['2.0.0', '>=1.2.0 <2', false], ['1.0.0', '>= 1.0.0', true],
    ['1.0.0', '1.x', true], ['1.0.0', '1', true], ['1.0.0', '1.0.0', true], ['1.0.1', '=1.0.0', false],
    ['1.0.0', '*', true], ['0.2.5', '^0.2.3', true], ['0.3.0', '^0.2.3', false],
    ['3.1.0', '^1.0.0 || ^3.0.0', true], ['1.0.0', '>1', false], ['2.0.0', '>1', true], ['1.0.0', '<=1.0', true],
  ])('%s satisfies %s: %s', (version, range, expected) => {
    expect(satisfiesSdkRange(version, range)).toBe(expected);
  });

  it('names the file, the key, both versions, or an unreadable range', () => {
    expect(checkSdkRange(undefined, 'p.json: "nodepool-ts.sdk"')).toBeUndefined();
    expect(checkSdkRange(`^${SDK_VERSION}`, 'p.json: "nodepool-ts.sdk"')).toBeUndefined();
    expect(checkSdkRange('^2.0.0', 'p.json: "nodepool-ts.sdk"', '1.0.0')).toBe(
      'p.json: "nodepool-ts.sdk" requires @nodepool-ts/sdk ^2.0.0, but this launcher provides SDK 1.0.0: rebuild the plugin against SDK 1.0.0 or run a launcher whose SDK matches',
    );
    expect(checkSdkRange('latest please', 'p.json: "nodepool-ts.sdk"')).toMatch(/cannot read the version range "latest please"/);
    expect(checkSdkRange(3, 'p.json: "nodepool-ts.sdk"')).toMatch(/must be a version range/);
  });

  it('discovery refuses a plugin built for another SDK and keeps the others', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-range-'));
    try {
      for (const [name, range] of [['new', '^2.0.0'], ['ok', `^${SDK_VERSION}`]]) {
        fs.mkdirSync(path.join(tmp, name));
        fs.writeFileSync(path.join(tmp, name, 'index.js'), 'module.exports = {};');
        fs.writeFileSync(path.join(tmp, name, 'package.json'), JSON.stringify({ name, 'nodepool-ts': { entry: 'index.js', drivers: [], sdk: range } }));
      }
      const found = discoverPlugins([tmp]);
      expect(found.plugins.map((p) => p.name)).toEqual(['ok']);
      expect(found.failures.map((f) => f.message)).toEqual([
        `${fs.realpathSync(tmp)}/new/package.json: "nodepool-ts.sdk" requires @nodepool-ts/sdk ^2.0.0, but this launcher provides SDK ${SDK_VERSION}: rebuild the plugin against SDK ${SDK_VERSION} or run a launcher whose SDK matches`,
      ]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the built-in plugins declare an SDK range this kernel satisfies', () => {
    const root = path.resolve(__dirname, '../../../plugins');
    for (const dir of fs.readdirSync(root)) {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'))['nodepool-ts'] as { sdk?: string };
      expect([dir, satisfiesSdkRange(SDK_VERSION, manifest.sdk ?? '')]).toEqual([dir, true]);
      expect(manifest.sdk).toBeDefined();
    }
  });
});
