import path from 'node:path';
import type { ProviderDriver } from '../../plugins/driver';
import { testSettings } from '../../../test/support/test-settings';
import { Kernel } from '../kernel';
import { formatConfigError } from './config-error';
import { runConfigValidate } from './config-validate';
import { loadNodepoolConfig } from './nodepool-config-loader';

const CONFIG_DIR = path.resolve(__dirname, '../../../config');

// The real drivers, loaded the way the launcher loads them (the kernel may not import plugins).
describe('example configurations in config/', () => {
  let kernel: Kernel;
  let drivers: ProviderDriver[];
  beforeAll(async () => {
    kernel = await Kernel.create({ settings: testSettings() });
    drivers = kernel.drivers.all();
  });
  afterAll(async () => {
    await kernel.stop();
  });

  it('example-nodepool.yaml validates cleanly with all three drivers', () => {
    const file = path.join(CONFIG_DIR, 'example-nodepool.yaml');
    const result = loadNodepoolConfig(file, null, drivers, {});
    expect(result.errors.map(formatConfigError)).toEqual([]);
    const config = result.config!;
    expect([...config.providers.values()].map((p) => [p.name, p.driver, p.pools.map((x) => x.labels)])).toEqual([
      ['static-lab', 'static', [['small']]],
      ['meta-lab', 'metastatic', [['small-shared']]],
      ['devstack', 'openstack', [['ubuntu-jammy', 'ubuntu-cloud']]],
    ]);
    expect(config.zookeeperTimeout).toBe(30);
    expect(config.diskimages.get('ubuntu-jammy')).toMatchObject({ username: 'ubuntu', elements: ['vm', 'simple-init', 'ubuntu-minimal'] });
    const lines: string[] = [];
    expect(runConfigValidate({ file, drivers, log: (line) => lines.push(line), env: {} })).toBe(0);
    expect(lines).toEqual([`validating ${file}`]);
  });

  it('quickstart.yaml serves label small from three loopback hosts, without zookeeper-servers', () => {
    const result = loadNodepoolConfig(path.join(CONFIG_DIR, 'quickstart.yaml'), null, drivers, {});
    expect(result.errors.map(formatConfigError)).toEqual([]);
    const config = result.config!;
    expect(config.zookeeperServers).toEqual([]);
    expect(config.labels.get('small')).toEqual({ name: 'small', 'min-ready': 0, 'max-ready-age': 0 });
    const provider = config.providers.get('static-local')!;
    expect(provider.pools.map((p) => [p.name, p.labels])).toEqual([['main', ['small']]]);
    const nodes = provider.pools[0].raw.nodes as Record<string, unknown>[];
    expect(nodes.map((n) => [n.name, n['host-key-checking'], n['connection-port']])).toEqual([
      ['127.0.0.1', false, 22],
      ['127.0.0.2', false, 22],
      ['127.0.0.3', false, 22],
    ]);
  });
});
