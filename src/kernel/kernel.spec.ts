import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ProviderDriver } from '../plugins/driver';
import { LifecycleContribution } from '../plugins/lifecycle';
import { Logger } from '../plugins/logger';
import { REPO_PLUGINS, testSettings } from '../../test/support/test-settings';
import { Kernel } from './kernel';

function writePlugin(root: string, folder: string, manifest: unknown, files: Record<string, string>): string {
  const dir = path.join(root, folder);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: folder, 'nodepool-ts': manifest }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A third-party plugin in plain JavaScript, as someone outside the repository would write it. */
const THIRD_PARTY = `
const sdk = require('@nodepool-ts/sdk');
class AcmeDriver {
  constructor(logger) { this.logger = logger; this.name = 'acme'; this.providerSchema = {}; }
  poolLabels(pool) { return pool.labels || []; }
  createProvider() { throw new Error('not in this test'); }
}
sdk.inject(sdk.Logger)(AcmeDriver, undefined, 0);
sdk.injectable()(AcmeDriver);
const events = [];
module.exports = new sdk.ContainerModule(({ bind }) => {
  bind(sdk.ProviderDriver).to(AcmeDriver);
  bind(sdk.LifecycleContribution).toConstantValue({
    name: 'acme-service',
    start: async () => { events.push('start'); },
    stop: async () => { events.push('stop'); },
  });
  bind('acme-events').toConstantValue(events);
});
`;

describe('Kernel plugin discovery and loading', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-plugins-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('loads the built-in static, metastatic and openstack plugins', async () => {
    const kernel = await Kernel.create({ settings: testSettings() });
    expect(kernel.pluginFailures).toEqual([]);
    expect(kernel.drivers.names().sort()).toEqual(['metastatic', 'openstack', 'static']);
    await kernel.stop();
  });

  it('discovers an out-of-tree plain-JS plugin, injects kernel services into it and runs its lifecycle; reports broken neighbours by folder', async () => {
    const good = writePlugin(tmp, 'acme', { entry: 'index.js', drivers: ['acme'] }, { 'index.js': THIRD_PARTY });
    const throwing = writePlugin(tmp, 'throws', { entry: 'index.js', drivers: ['boom'] }, { 'index.js': `throw new Error('kaboom at import');` });
    const badManifest = writePlugin(tmp, 'bad-manifest', { drivers: ['x'] }, {});
    const notModule = writePlugin(tmp, 'not-a-module', { entry: 'index.js', drivers: [] }, { 'index.js': 'module.exports = { hello: 1 };' });
    fs.mkdirSync(path.join(tmp, 'unrelated'));
    fs.writeFileSync(path.join(tmp, 'unrelated', 'package.json'), '{"name":"unrelated"}');

    const stream = new PassThrough();
    let logged = '';
    stream.on('data', (d) => (logged += d.toString()));
    const kernel = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp] }, log: { level: 'info', format: 'json' } }), logStream: stream });

    expect(kernel.drivers.names()).toEqual(['acme']);
    const failures = Object.fromEntries(kernel.pluginFailures.map((f) => [f.dir, f.message]));
    const unrelated = path.join(tmp, 'unrelated');
    expect(Object.keys(failures).sort()).toEqual([badManifest, notModule, throwing, unrelated].map((d) => fs.realpathSync(d)).sort());
    expect(failures[fs.realpathSync(unrelated)]).toMatch(/no "nodepool-ts" manifest field/);
    expect(failures[fs.realpathSync(throwing)]).toMatch(/kaboom at import/);
    expect(failures[fs.realpathSync(throwing)]).toContain(fs.realpathSync(throwing));
    expect(failures[fs.realpathSync(badManifest)]).toMatch(/entry/);
    expect(failures[fs.realpathSync(notModule)]).toMatch(/ContainerModule/);

    const driver = kernel.drivers.get('acme') as ProviderDriver & { logger: unknown };
    expect(driver.logger).toBe(kernel.container.get(Logger));
    const loaded = kernel.plugins.find((p) => p.plugin.dir === fs.realpathSync(good));
    const events = loaded!.container.get<string[]>('acme-events');
    await kernel.start();
    expect(events).toEqual(['start']);
    await kernel.stop();
    expect(events).toEqual(['start', 'stop']);
    await new Promise((r) => setImmediate(r));
    expect(logged).toContain('plugin not loaded');
    expect(logged).toContain(fs.realpathSync(throwing));
  });

  it('refuses a second plugin providing an existing driver name, naming both folders', async () => {
    writePlugin(tmp, 'a-first', { entry: 'index.js', drivers: ['acme'] }, { 'index.js': THIRD_PARTY });
    const dup = writePlugin(tmp, 'b-dup', { entry: 'index.js', drivers: ['acme'] }, { 'index.js': THIRD_PARTY });
    const kernel = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp] } }) });
    expect(kernel.drivers.names()).toEqual(['acme']);
    expect(kernel.pluginFailures).toHaveLength(1);
    expect(kernel.pluginFailures[0].message).toContain(fs.realpathSync(dup));
    expect(kernel.pluginFailures[0].message).toMatch(/already provided by plugin .*a-first/);
    await kernel.stop();
  });

  it('refuses a plugin whose bound drivers differ from its manifest', async () => {
    writePlugin(tmp, 'liar', { entry: 'index.js', drivers: ['other'] }, { 'index.js': THIRD_PARTY });
    const kernel = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp] } }) });
    expect(kernel.drivers.names()).toEqual([]);
    expect(kernel.pluginFailures[0].message).toMatch(/declares drivers \[other\] but the module binds \[acme\]/);
    await kernel.stop();
  });

  it('reports every manifest problem and anything a module throws as one error naming the folder', async () => {
    const dirs = {
      misspelled: path.join(tmp, 'misspelled'),
      unknownKey: writePlugin(tmp, 'unknown-key', { entry: 'index.js', drivers: ['acme'], driver: ['acme'] }, { 'index.js': THIRD_PARTY }),
      noDrivers: writePlugin(tmp, 'no-drivers', { entry: 'index.js' }, { 'index.js': THIRD_PARTY }),
      noEntryFile: writePlugin(tmp, 'no-entry-file', { entry: 'lib/main.js', drivers: [] }, {}),
      throwsString: writePlugin(tmp, 'throws-string', { entry: 'index.js', drivers: [] }, {
        'index.js': `const sdk = require('@nodepool-ts/sdk'); module.exports = new sdk.ContainerModule(() => { throw 'no licence key'; });`,
      }),
      throwsUndefined: writePlugin(tmp, 'throws-undefined', { entry: 'index.js', drivers: [] }, {
        'index.js': `const sdk = require('@nodepool-ts/sdk'); module.exports = new sdk.ContainerModule(() => { throw undefined; });`,
      }),
      notADriver: writePlugin(tmp, 'not-a-driver', { entry: 'index.js', drivers: [] }, {
        'index.js': `const sdk = require('@nodepool-ts/sdk'); module.exports = new sdk.ContainerModule(({ bind }) => { bind(sdk.ProviderDriver).toConstantValue({ name: 'half' }); });`,
      }),
    };
    fs.mkdirSync(dirs.misspelled);
    fs.writeFileSync(path.join(dirs.misspelled, 'package.json'), JSON.stringify({ name: 'm', nodepool_ts: { entry: 'index.js', drivers: [] } }));
    const kernel = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp] } }) });
    const failures = Object.fromEntries(kernel.pluginFailures.map((f) => [f.dir, f.message]));
    const of = (dir: string): string => failures[fs.realpathSync(dir)] ?? '(no failure)';
    expect(Object.keys(failures)).toHaveLength(Object.keys(dirs).length);
    for (const dir of Object.values(dirs)) expect(of(dir)).toContain(fs.realpathSync(dir));
    expect(of(dirs.misspelled)).toMatch(/has "nodepool_ts" but the manifest field is "nodepool-ts"/);
    expect(of(dirs.unknownKey)).toMatch(/unknown key "nodepool-ts.driver"/);
    expect(of(dirs.noDrivers)).toMatch(/"nodepool-ts.drivers" is missing/);
    expect(of(dirs.noEntryFile)).toMatch(/lib\/main.js does not exist/);
    expect(of(dirs.throwsString)).toMatch(/failed to load: no licence key$/);
    expect(of(dirs.throwsUndefined)).toMatch(/failed to load: undefined thrown$/);
    expect(of(dirs.notADriver)).toMatch(/\("half"\) lacks createProvider\(\), poolLabels\(\), providerSchema/);
    expect(kernel.drivers.names()).toEqual([]);
    await kernel.stop();
  });

  it('loads the built-in plugins besides the extra folders unless plugins.builtin is off', async () => {
    writePlugin(tmp, 'acme', { entry: 'index.js', drivers: ['acme'] }, { 'index.js': THIRD_PARTY });
    const both = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp], builtin: true } }) });
    expect(both.drivers.names()).toEqual(['metastatic', 'openstack', 'static', 'acme']);
    await both.stop();
    const only = await Kernel.create({ settings: testSettings({ plugins: { dirs: [tmp], builtin: false } }) });
    expect(only.drivers.names()).toEqual(['acme']);
    await only.stop();
  });

  it('searches several plugin folders, and reports a missing one', async () => {
    writePlugin(tmp, 'acme', { entry: 'index.js', drivers: ['acme'] }, { 'index.js': THIRD_PARTY });
    const missing = path.join(tmp, 'nope');
    const kernel = await Kernel.create({ settings: testSettings({ plugins: { dirs: [REPO_PLUGINS, tmp, missing] } }) });
    expect(kernel.drivers.names()).toEqual(['metastatic', 'openstack', 'static', 'acme']);
    expect(kernel.pluginFailures.map((f) => f.dir)).toEqual([missing]);
    await kernel.stop();
  });
});

describe('Kernel lifecycle', () => {
  it('starts core services first, stops plugins before core, traces each hook, and bounds a hanging stop', async () => {
    const order: string[] = [];
    const service = (name: string, hangOnStop = false): LifecycleContribution => ({
      name,
      start: async () => void order.push(`start ${name}`),
      stop: () => (order.push(`stop ${name}`), hangOnStop ? new Promise<void>(() => undefined) : Promise.resolve()),
    });
    const kernel = await Kernel.create({
      settings: { ...testSettings(), stopTimeout: 0.2 },
      coreServices: () => [service('zk'), service('engine', true)],
    });
    await kernel.start();
    await kernel.stop();
    expect(order).toEqual(['start zk', 'start engine', 'stop engine', 'stop zk']);
    const spans = kernel.tracing.finishedSpans().map((s) => s.name);
    expect(spans).toEqual(expect.arrayContaining(['kernel.start zk', 'kernel.start engine', 'kernel.stop zk']));
  });

  it('a failing start stops what already started', async () => {
    const order: string[] = [];
    const kernel = await Kernel.create({
      settings: testSettings(),
      coreServices: () => [
        { name: 'ok', start: async () => void order.push('start ok'), stop: async () => void order.push('stop ok') },
        { name: 'bad', start: async () => { throw new Error('no'); } },
      ],
    });
    await expect(kernel.start()).rejects.toThrow('no');
    expect(order).toEqual(['start ok', 'stop ok']);
    expect(kernel.status).toBe('stopped');
  });
});
