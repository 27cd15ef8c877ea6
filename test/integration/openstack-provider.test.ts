/**
 * The OpenStack provider's engine hooks against the API simulator: launch settings, label quota,
 * cloud limits minus foreign usage, leak listing (servers, DOWN ports, floating IPs), label
 * readiness (cloud images and diskimage uploads in a real ZooKeeper) and AZs.
 */
import { trace } from '@opentelemetry/api';
import type { DiskImageConfig, NodepoolConfig } from '../../src/plugins/nodepool-config';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { CaptureLogger } from '../support/capture-logger';
import { FaultProxy } from '../support/openstack-simulator/fault-proxy';
import { openstackProviderConfig, RecordingMetrics, simProviderYaml, writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { OpenStackSimulator } from '../support/openstack-simulator/openstack-simulator';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
let client: ZkClient;
let sim: OpenStackSimulator;
const metrics = new RecordingMetrics();
let seq = 0;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  client = new ZkClient({ hosts: `${server.connectString}/openstack-provider-${++seq}`, sessionTimeout: 4000 });
  await client.connect(10000);
  await client.ensurePath('/nodepool/nodes');
  sim = await new OpenStackSimulator({ buildMs: 20, deleteMs: 10, cinder: true }).start();
});

afterEach(async () => {
  await client.close();
  await sim.stop();
});

const DISKIMAGE_YAML = `
diskimages:
  - name: built
  - name: winimg
    connection-type: winrm
pools:
  - name: main
    host-key-checking: false
    labels:
      - {name: dib, diskimage: built, min-ram: 512}
      - {name: win, diskimage: winimg, flavor-name: m1.medium}
`;

function makeProvider(yamlText: string, diskimages: string[] = [], cloudsFile = writeCloudsYaml(sim), startWaitMs?: number): OpenstackProvider {
  const provider = newProvider(yamlText, diskimages, cloudsFile, startWaitMs);
  started.push(provider);
  return provider;
}

const started: OpenstackProvider[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.stop();
});

function newProvider(yamlText: string, diskimages: string[], cloudsFile: string, startWaitMs?: number): OpenstackProvider {
  const config = openstackProviderConfig(yamlText);
  const image = (name: string): DiskImageConfig => ({ name, username: 'builder', 'python-path': '/usr/bin/python3', 'shell-type': null, pause: false });
  const whole = { providers: new Map([[config.name, config]]), diskimages: new Map(diskimages.map((d) => [d, image(d)])) } as unknown as NodepoolConfig;
  const zk = new NodepoolZk(client, new CaptureLogger());
  const provider = new OpenstackProvider(config, { zk, logger: new CaptureLogger(), tracer: trace.getTracer('test'), metrics, config: whole }, {
    env: { OS_CLIENT_CONFIG_FILE: cloudsFile, HOME: '/nonexistent' },
    transport: { timeoutMs: 2000, backoffMs: 20 },
    cacheTtls: { servers: 0, limits: 0 },
    startWaitMs,
    uploadRefreshMs: 200,
  });
  return provider;
}

async function startProvider(yamlText: string, diskimages: string[] = []): Promise<OpenstackProvider> {
  const provider = makeProvider(yamlText, diskimages);
  await provider.start();
  return provider;
}

describe('OpenStack provider hooks', () => {
  test('launchSettings: provider timeouts, label host-key-checking, cloud-image connection data', async () => {
    const provider = await startProvider(simProviderYaml({ launchRetries: 5, launchTimeout: 600 }));
    expect(provider.launchSettings('small', provider.config.pools[0])).toEqual({
      launchRetries: 5, launchTimeout: 600, bootTimeout: 5, hostKeyChecking: true, connectionType: 'ssh', connectionPort: 22,
      username: 'ubuntu', pythonPath: 'auto', shellType: null, imageId: 'ubuntu', imageExternalId: null,
    });
  });

  test('quotaNeededByLabel comes from the flavor the label selects', async () => {
    const provider = await startProvider(simProviderYaml());
    const pool = provider.config.pools[0];
    expect(provider.quotaNeededByLabel('small', pool).toResources()).toEqual({ instances: 1, cores: 1, ram: 2048 });
    expect(provider.quotaNeededByLabel('big', pool).toResources()).toEqual({ instances: 1, cores: 4, ram: 8192 });
  });

  test('getQuotaLimits: Nova limits minus servers not tagged as ours; listInstances returns only ours', async () => {
    const provider = await startProvider(simProviderYaml());
    const c = provider.resources.client;
    const imageRef = sim.state.images[0].id;
    await c.createServer({ name: 'foreign', imageRef, flavorRef: '3', metadata: {} });
    const leakId = await c.createServer({ name: 'np9', imageRef, flavorRef: '1', metadata: { nodepool_provider_name: 'sim-provider', nodepool_node_id: '0000000009', nodepool_pool_name: 'main' } });
    await c.createServer({ name: 'other', imageRef, flavorRef: '1', metadata: { nodepool_provider_name: 'another-provider', nodepool_node_id: '1' } });
    const limits = await provider.getQuotaLimits();
    // 10 instances / 20 cores / 51200 MB minus foreign (m1.medium: 2 cores, 4096) and other (m1.tiny).
    expect(limits.toResources()).toEqual({ instances: 8, cores: 17, ram: 51200 - 4096 - 512, volumes: 10, 'volume-gb': 1000 });
    expect(limits.get('gpus')).toBe(Infinity);
    const mine = await provider.listInstances();
    expect(mine.map((i) => i.externalId)).toEqual([leakId]);
    expect(mine[0]).toMatchObject({ metadata: { nodepool_node_id: '0000000009' }, quota: { values: { instances: 1, cores: 1, ram: 512 } } });
    // A foreign server booted from a 30 GB volume also uses volume quota (Cinder limits 10 / 1000 GB).
    await c.createServer({
      name: 'foreign-bfv', imageRef: '', flavorRef: '1', metadata: {},
      block_device_mapping_v2: [{ boot_index: '0', source_type: 'image', destination_type: 'volume', uuid: imageRef, volume_size: '30', delete_on_termination: true }],
    });
    expect((await provider.getQuotaLimits()).toResources()).toEqual({ instances: 7, cores: 16, ram: 51200 - 4096 - 512 - 512, volumes: 9, 'volume-gb': 970 });
    sim.state.quota = { instances: -1, cores: -1, ram: -1 };
    expect((await provider.getQuotaLimits()).get('instances')).toBe(Infinity);
  });

  test('listResources: DOWN ports after port-cleanup-interval, unbound floating IPs with clean-floating-ips', async () => {
    const yamlText = simProviderYaml().replace('rate: 0', 'rate: 0\nport-cleanup-interval: 1\nclean-floating-ips: true');
    const provider = await startProvider(yamlText);
    const priv = sim.state.network('private').id;
    const down = sim.state.addPort(priv, '', 'compute:nova', 'DOWN');
    sim.state.addPort(priv, '', 'network:router_interface', 'DOWN');
    sim.state.addPort(priv, 'some-server', 'compute:nova', 'ACTIVE');
    const fip = sim.state.addFloatingIp(sim.state.network('public').id, null);
    // First sighting only records the port.
    expect((await provider.listResources()).map((r) => r.type)).toEqual(['floatingip']);
    await new Promise((r) => setTimeout(r, 1100));
    const leaked = await provider.listResources();
    expect(leaked).toEqual([
      { type: 'port', id: down.id, metadata: { nodepool_provider_name: 'sim-provider', nodepool_node_id: '' } },
      { type: 'floatingip', id: fip.id, metadata: { nodepool_provider_name: 'sim-provider', nodepool_node_id: '' } },
    ]);
    for (const r of leaked) await provider.deleteResource(r);
    expect(sim.state.ports.has(down.id)).toBe(false);
    expect(sim.state.floatingIps.size).toBe(0);
    expect(sim.state.ports.size).toBe(2);
    // Deleting what is already gone is fine.
    await provider.deleteResource(leaked[0]);
  });

  test('labelReady: cloud images must exist and be active; AZs come from Nova', async () => {
    const yamlText = simProviderYaml().replace('  - name: debian-by-name\n', '  - name: debian-by-name\n  - name: queued\n    image-name: queued-image\n  - name: by-id\n    image-id: not-checked\n')
      .replace('      - name: big\n', '      - {name: q, cloud-image: queued, min-ram: 1}\n      - {name: byid, cloud-image: by-id, min-ram: 1}\n      - {name: gone, cloud-image: debian-by-name, min-ram: 1}\n      - name: big\n');
    const provider = await startProvider(yamlText);
    const pool = provider.config.pools[0];
    expect(provider.labelReady('small', pool)).toBe(true);
    expect(provider.labelReady('q', pool)).toBe(false);
    expect(provider.labelReady('byid', pool)).toBe(true);
    expect(provider.labelReady('gone', pool)).toBe(false);
    expect(await provider.getAvailabilityZones()).toEqual(['nova']);
  });

  test('diskimage labels: ready only with a ready upload in ZooKeeper; the newest is launched', async () => {
    const base = '/nodepool/images/built/builds';
    const upload = async (build: string, seq: string, body: Record<string, unknown>): Promise<void> => {
      await client.ensurePath(`${base}/${build}/providers/sim-provider/images`);
      await client.create(`${base}/${build}/providers/sim-provider/images/${seq}`, Buffer.from(JSON.stringify(body)));
    };
    await upload('b1', '0000000001', { state: 'ready', state_time: 100, external_id: 'img-old' });
    await upload('b2', '0000000001', { state: 'ready', state_time: 200, external_id: 'img-new' });
    await upload('b3', '0000000001', { state: 'uploading', state_time: 300, external_id: 'img-partial' });
    const provider = await startProvider(`name: sim-provider\ncloud: sim\n${DISKIMAGE_YAML}`, ['built', 'winimg']);
    const pool = provider.config.pools[0];
    expect(provider.labelReady('dib', pool)).toBe(true);
    expect(provider.labelReady('win', pool)).toBe(false);
    expect(provider.launchSettings('dib', pool)).toMatchObject({
      imageId: `${base}/b2/providers/sim-provider/images/0000000001`, imageExternalId: 'img-new',
      username: 'builder', pythonPath: '/usr/bin/python3', connectionType: 'ssh', connectionPort: 22, hostKeyChecking: false,
    });
    expect(provider.launchSettings('win', pool)).toMatchObject({ connectionType: 'winrm', connectionPort: 5986, imageExternalId: null });
    // A new upload is picked up without a restart (the engine has no hook that would ask).
    await client.ensurePath('/nodepool/images/winimg/builds/w1/providers/sim-provider/images');
    await client.create('/nodepool/images/winimg/builds/w1/providers/sim-provider/images/0000000001', Buffer.from(JSON.stringify({ state: 'ready', state_time: 1, external_id: 'img-win' })));
    for (let i = 0; i < 50 && !provider.labelReady('win', pool); i++) await new Promise((r) => setTimeout(r, 20));
    expect(provider.launchSettings('win', pool).imageExternalId).toBe('img-win');
  });

  test('a missing image or flavor reloads its list at most once per interval', async () => {
    const provider = await startProvider(simProviderYaml());
    const r = provider.resources;
    const glance = (): number => sim.seen('image', 'GET').length;
    const before = glance();
    await expect(r.imageId('no-such-image')).rejects.toThrow('Unable to find image no-such-image');
    expect(glance()).toBeGreaterThan(before);
    const after = glance();
    await expect(r.imageId('no-such-image')).rejects.toThrow('Unable to find image');
    await expect(r.flavorFor(undefined, 'no-such-flavor')).rejects.toThrow('Unable to find flavor');
    const flavorLists = sim.seen('compute', 'GET').filter((q) => q.path.includes('/flavors')).length;
    await expect(r.flavorFor(undefined, 'no-such-flavor')).rejects.toThrow('Unable to find flavor');
    expect(glance()).toBe(after);
    expect(sim.seen('compute', 'GET').filter((q) => q.path.includes('/flavors')).length).toBe(flavorLists);
    // A flavor found in the cached list needs no call at all.
    await expect(r.flavorFor(2000, undefined)).resolves.toMatchObject({ name: 'm1.small' });
  });

  test('start: an unknown cloud fails; a cloud that does not answer does not hold start up', async () => {
    await expect(makeProvider(simProviderYaml().replace('cloud: sim', 'cloud: missing')).start()).rejects.toThrow('cloud missing is not defined');
    const proxy = await FaultProxy.start(sim.url);
    try {
      proxy.inject({ kind: 'slow', count: 100, delayMs: 3000 });
      const provider = makeProvider(simProviderYaml(), [], writeCloudsYaml(sim, { base: proxy.url }), 300);
      const started = performance.now();
      await provider.start();
      expect(performance.now() - started).toBeLessThan(2500);
      // Without the flavor list the label costs one instance until the list arrives, and a
      // cloud image never listed is assumed ready (the launch finds out; requests are not declined).
      expect(provider.quotaNeededByLabel('small', provider.config.pools[0]).toResources()).toEqual({ instances: 1 });
      expect(provider.labelReady('small', provider.config.pools[0])).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});
