/**
 * The OpenStack provider driven by NodeLauncher and NodeDeleter, against a real ZooKeeper and the
 * OpenStack API simulator (through the fault proxy): what lands in the cloud and in the node
 * record, retries after ERROR, launch timeout, quota, 5xx bursts and lost answers, and that no
 * secret reaches the logs.
 */
import { trace } from '@opentelemetry/api';
import { NodeDeleter } from '../../src/plugins/node-deleter';
import { NodeLauncher, type LaunchResult } from '../../src/plugins/node-launcher';
import type { NodepoolConfig, ProviderConfig } from '../../src/plugins/nodepool-config';
import { StateMachineTimeoutError } from '../../src/plugins/run-state-machine';
import { QuotaError } from '../../src/plugins/state-machine';
import { Node } from '../../src/zk/models/node';
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
let zk: NodepoolZk;
let sim: OpenStackSimulator;
let proxy: FaultProxy;
let metrics = new RecordingMetrics();
let logger: CaptureLogger;
let chrootSeq = 0;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  client = new ZkClient({ hosts: `${server.connectString}/openstack-${++chrootSeq}`, sessionTimeout: 4000 });
  await client.connect(10000);
  await client.ensurePath('/nodepool/nodes');
  zk = new NodepoolZk(client, new CaptureLogger());
  sim = await new OpenStackSimulator({ buildMs: 100, deleteMs: 50, cinder: true }).start();
  proxy = await FaultProxy.start(sim.url);
  sim.advertisedBase = proxy.url;
  logger = new CaptureLogger();
  metrics = new RecordingMetrics();
});

afterEach(async () => {
  await client.close();
  await proxy.stop();
  await sim.stop();
});

async function startProvider(yamlText = simProviderYaml({ poolExtra: 'host-key-checking: false' }), cloudExtra?: Record<string, unknown>): Promise<OpenstackProvider> {
  const config: ProviderConfig = openstackProviderConfig(yamlText);
  const file = writeCloudsYaml(sim, { base: proxy.url, cloudExtra });
  const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
  const provider = new OpenstackProvider(config, { zk, logger, tracer: trace.getTracer('test'), metrics, config: whole }, {
    env: { OS_CLIENT_CONFIG_FILE: file, HOME: '/nonexistent' },
    transport: { timeoutMs: 2000, backoffMs: 20, maxBackoffMs: 100 },
    cacheTtls: { servers: 50 },
  });
  await provider.start();
  return provider;
}

async function buildingNode(provider: OpenstackProvider): Promise<Node> {
  const node = new Node();
  node.state = 'building';
  node.type = ['small'];
  node.provider = provider.name;
  node.pool = 'main';
  node.allocated_to = '100-0000000001';
  node.launcher = 'test-launcher';
  await zk.createNode(node);
  expect(await zk.lockNode(node)).toBeDefined();
  return node;
}

async function launch(provider: OpenstackProvider, node: Node, label = 'small'): Promise<LaunchResult> {
  const pool = provider.config.pools[0];
  return new NodeLauncher({ zk, provider, node, label, pool, settings: provider.launchSettings(label, pool), logger, pollInterval: 20 }).run();
}

async function remove(provider: OpenstackProvider, node: Node): Promise<void> {
  expect(await new NodeDeleter({ zk, provider, node, logger, pollInterval: 20 }).run()).toEqual({ deleted: true });
}

async function rawBody(id: string): Promise<Record<string, unknown>> {
  const { data } = await client.get(`/nodepool/nodes/${id}`);
  return JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
}

function serverCreates(): number {
  return sim.seen('compute', 'POST').filter((r) => /\/servers$/.test(r.path) && r.status === 202).length;
}

/** Nothing of ours left in the cloud (once Nova has purged deleted servers and their ports). */
async function expectNoLeaks(): Promise<void> {
  for (let i = 0; i < 50 && sim.state.servers.size + sim.state.ports.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect([...sim.state.servers.values()]).toEqual([]);
  expect(sim.state.liveServers()).toEqual([]);
  expect([...sim.state.floatingIps.values()]).toEqual([]);
  expect([...sim.state.ports.values()]).toEqual([]);
}

describe('OpenStack launch', () => {
  test('boots an ACTIVE server with our name, metadata, flavor, image, network and a floating IP; delete cleans up', async () => {
    const provider = await startProvider();
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });

    const [srv] = sim.state.liveServers();
    expect(srv.name).toBe(`np${node.id}`);
    expect(srv.metadata).toEqual({
      groups: 'sim-provider,ubuntu-noble,small', owner: 'ci', request_info: 'req-100-0000000001',
      nodepool_node_id: node.id, nodepool_pool_name: 'main', nodepool_provider_name: 'sim-provider',
    });
    expect(sim.state.flavors.find((f) => f.id === srv.flavorId)?.name).toBe('m1.small');
    expect(srv.imageId).toBe(sim.state.images.find((i) => i.name === 'ubuntu-noble')?.id);
    expect(srv.networkIds).toEqual([sim.state.network('private').id]);
    expect(srv.keyName).toBe('nodepool');
    const [fip] = [...sim.state.floatingIps.values()];
    const [port] = [...sim.state.ports.values()];
    expect(fip).toMatchObject({ port_id: port.id, floating_network_id: sim.state.network('public').id, status: 'ACTIVE' });

    const body = await rawBody(node.id as string);
    expect(body).toMatchObject({
      state: 'ready', external_id: srv.id, interface_ip: fip.floating_ip_address, public_ipv4: fip.floating_ip_address,
      private_ipv4: port.fixed_ips[0].ip_address, public_ipv6: null, az: 'nova', host_id: srv.hostId, cloud: 'sim', region: 'RegionOne',
      resources: { instances: 1, cores: 1, ram: 2048 }, username: 'ubuntu', image_id: 'ubuntu', connection_type: 'ssh', connection_port: 22,
      host_keys: [],
    });

    await remove(provider, node);
    expect(await client.exists(`/nodepool/nodes/${node.id}`)).toBeNull();
    await expectNoLeaks();
    // Every API call is timed, labelled by resource, never by id.
    const calls = metrics.observations.filter((o) => o.name === 'nodepool_openstack_api_seconds');
    expect(calls.find((o) => o.labels.method === 'POST' && o.labels.resource === 'servers')).toMatchObject({ labels: { provider: 'sim-provider', status: '202' } });
    expect(calls.find((o) => o.labels.resource === 'auth')?.labels.status).toBe('201');
    expect(new Set(calls.map((o) => o.labels.resource))).toEqual(new Set(['auth', 'servers', 'flavors', 'images', 'networks', 'ports', 'floatingips']));
  });

  test('a floating IP Neutron leaves DOWN (no L3 agent) is used once Nova shows it', async () => {
    const provider = await startProvider();
    sim.state.boundFloatingIpStatus = 'DOWN';
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    const [fip] = [...sim.state.floatingIps.values()];
    expect(fip.status).toBe('DOWN');
    expect((await rawBody(node.id as string)).public_ipv4).toBe(fip.floating_ip_address);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('boot-from-volume: the image goes into a volume mapping; resources count the volume; it goes with the server', async () => {
    const provider = await startProvider(simProviderYaml({ poolExtra: 'host-key-checking: false', labelExtra: 'boot-from-volume: true\n        volume-size: 20' }));
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    const [srv] = sim.state.liveServers();
    expect(srv.request).toMatchObject({
      imageRef: '',
      block_device_mapping_v2: [{ boot_index: '0', source_type: 'image', destination_type: 'volume', uuid: srv.imageId, volume_size: '20', delete_on_termination: true }],
    });
    expect((await rawBody(node.id as string)).resources).toEqual({ instances: 1, cores: 1, ram: 2048, volumes: 1, 'volume-gb': 20 });
    expect([...sim.state.volumes.values()].map((v) => v.size)).toEqual([20]);
    await remove(provider, node);
    await expectNoLeaks();
    expect(sim.state.volumes.size).toBe(0);
  });

  test('without auto-floating-ip the server keeps its fixed address only', async () => {
    const provider = await startProvider(simProviderYaml({ poolExtra: 'host-key-checking: false\n    auto-floating-ip: false' }));
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    expect(sim.state.floatingIps.size).toBe(0);
    const body = await rawBody(node.id as string);
    expect(body.interface_ip).toMatch(/^10\.0\.0\./);
    expect(body.public_ipv4).toBeNull();
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('clouds.yaml private: true → no floating IP, the private address is the interface', async () => {
    const provider = await startProvider(undefined, { private: true });
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    expect(sim.state.floatingIps.size).toBe(0);
    expect(await rawBody(node.id as string)).toMatchObject({ interface_ip: expect.stringMatching(/^10\.0\.0\./), public_ipv4: null });
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('ERROR servers are deleted and the launch retried on the same node', async () => {
    const provider = await startProvider();
    sim.state.errorQueue.push('No valid host was found.', 'No valid host was found.');
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 3, statsKey: 'ready' });
    expect(serverCreates()).toBe(3);
    const live = sim.state.liveServers();
    expect(live).toHaveLength(1);
    expect((await rawBody(node.id as string)).external_id).toBe(live[0].id);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('a server deleted behind our back while booting fails the attempt; the retry succeeds', async () => {
    const provider = await startProvider();
    sim.state.hangNext = 1;
    const node = await buildingNode(provider);
    const run = launch(provider, node);
    while (sim.state.servers.size === 0) await new Promise((r) => setTimeout(r, 10));
    sim.state.purgeServer([...sim.state.servers.keys()][0]);
    const result = await run;
    expect(result).toMatchObject({ state: 'ready', attempts: 2 });
    expect(serverCreates()).toBe(2);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('launch-retries bounds the attempts: all ERROR → failed; the last server is deleted with the node', async () => {
    const provider = await startProvider(simProviderYaml({ launchRetries: 2, poolExtra: 'host-key-checking: false' }));
    sim.state.errorQueue.push('No valid host was found.', 'No valid host was found.', 'unused');
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result.state).toBe('failed');
    expect(result.attempts).toBe(2);
    expect(result.error?.message).toContain('No valid host was found');
    expect(serverCreates()).toBe(2);
    expect(sim.state.liveServers()).toHaveLength(1);
    expect((await rawBody(node.id as string))).toMatchObject({ state: 'failed', external_id: sim.state.liveServers()[0].id });
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('launch-timeout: the hung server is deleted before the next attempt', async () => {
    const provider = await startProvider(simProviderYaml({ launchTimeout: 1, launchRetries: 2, poolExtra: 'host-key-checking: false' }));
    sim.state.hangNext = 1;
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 2, statsKey: 'ready' });
    expect(serverCreates()).toBe(2);
    expect(sim.state.liveServers()).toHaveLength(1);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('launch-timeout with no attempt left fails the node; the deleter removes the server', async () => {
    const provider = await startProvider(simProviderYaml({ launchTimeout: 1, launchRetries: 1, poolExtra: 'host-key-checking: false' }));
    sim.state.hangNext = 1;
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result.state).toBe('failed');
    expect(result.error).toBeInstanceOf(StateMachineTimeoutError);
    expect((await rawBody(node.id as string)).external_id).toBe(sim.state.liveServers()[0].id);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('over quota: the launch is aborted (not failed) and nothing is created', async () => {
    const provider = await startProvider();
    sim.state.quota.instances = 0;
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result.state).toBe('aborted');
    expect(result.attempts).toBe(0);
    expect(result.error).toBeInstanceOf(QuotaError);
    expect(result.statsKey).toBe('error.quota');
    expect((await rawBody(node.id as string)).state).toBe('aborted');
    expect(sim.state.servers.size).toBe(0);
  });

  test('an ERROR server whose fault says it exceeds quota aborts the launch (after deleting it)', async () => {
    const provider = await startProvider();
    sim.state.errorQueue.push('Build of instance aborted: Requested resources exceeds quota');
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result).toMatchObject({ state: 'aborted', attempts: 0, statsKey: 'error.quota' });
    // The engine deletes the aborted node's instance through the deleter.
    expect((await rawBody(node.id as string)).external_id).toBe(sim.state.liveServers()[0].id);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('5xx bursts, drops and slow answers on every service: the launch completes and nothing leaks', async () => {
    const provider = await startProvider();
    proxy.inject({ kind: '5xx', count: 3, match: /GET .*\/servers\/detail/ });
    proxy.inject({ kind: '5xx', count: 2, match: /ports|floatingips/ });
    proxy.inject({ kind: 'drop', count: 2, match: /GET/ });
    proxy.inject({ kind: 'slow', count: 3, delayMs: 200 });
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    proxy.inject({ kind: '5xx', count: 3, match: /DELETE|GET .*\/servers\// });
    await remove(provider, node);
    expect(proxy.applied['5xx']).toBe(8);
    expect(proxy.applied.drop).toBe(2);
    await expectNoLeaks();
  });

  test('a Nova outage longer than the retries while the server boots is waited out', async () => {
    const provider = await startProvider();
    // 12 answers of 503 = three polls whose four attempts all fail.
    proxy.inject({ kind: '5xx', count: 12, match: /GET .*\/compute\/.*\/servers/ });
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    expect(proxy.applied['5xx']).toBe(12);
    expect(logger.lines.some((l) => l.msg === 'cloud API unavailable; waiting')).toBe(true);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('a create whose answer is lost is adopted, not repeated (and the same for the floating IP)', async () => {
    const provider = await startProvider();
    proxy.inject({ kind: 'drop-after-forward', count: 1, match: /POST .*\/servers$/ });
    proxy.inject({ kind: 'drop-after-forward', count: 1, match: /POST .*\/floatingips$/ });
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    expect(proxy.applied['drop-after-forward']).toBe(2);
    expect(serverCreates()).toBe(1);
    expect(sim.state.floatingIps.size).toBe(1);
    expect((await rawBody(node.id as string)).external_id).toBe(sim.state.liveServers()[0].id);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('a create refused with 5xx is posted again and succeeds', async () => {
    const provider = await startProvider();
    proxy.inject({ kind: '5xx', count: 2, match: /POST .*\/servers$/ });
    const node = await buildingNode(provider);
    expect((await launch(provider, node)).state).toBe('ready');
    expect(serverCreates()).toBe(1);
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('eight parallel launches and deletes under a rate limit share the server list', async () => {
    const provider = await startProvider(simProviderYaml({ rate: 0.01, poolExtra: 'host-key-checking: false\n    auto-floating-ip: false' }));
    const nodes = await Promise.all(Array.from({ length: 8 }, () => buildingNode(provider)));
    const results = await Promise.all(nodes.map((n) => launch(provider, n)));
    expect(results.map((r) => r.state)).toEqual(Array(8).fill('ready'));
    expect(new Set(sim.state.liveServers().map((s) => s.metadata.nodepool_node_id))).toEqual(new Set(nodes.map((n) => n.id)));
    await Promise.all(nodes.map((n) => remove(provider, n)));
    await expectNoLeaks();
    const at = sim.seen('compute').map((r) => r.at);
    // Spaced by the throttle (arrival times jitter by a few ms, so check the span).
    expect(at[at.length - 1] - at[0]).toBeGreaterThanOrEqual((at.length - 1) * 9);
    // Polls read one shared list instead of one GET per machine per second.
    expect(sim.seen('compute', 'GET').filter((r) => r.path.includes('/servers/detail')).length).toBeLessThan(60);
  });

  test('nodescan failure with console-log: the server console is logged, then the attempt fails', async () => {
    // A loopback address with nothing listening: the scan is refused (other ranges may be
    // answered by the test machine's network).
    sim.state.addNetwork('loop', false, '127.0.0');
    const yamlText = simProviderYaml({ launchRetries: 1, poolExtra: 'auto-floating-ip: false', labelExtra: 'console-log: true' })
      .replace('boot-timeout: 5', 'boot-timeout: 1').replace('networks: [private]', 'networks: [loop]');
    const provider = await startProvider(yamlText);
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    expect(result).toMatchObject({ state: 'failed', statsKey: 'error.keyscan' });
    const line = logger.lines.find((l) => l.msg === 'console log of the unreachable server');
    expect(line?.fields).toMatchObject({ external_id: node.external_id, console: `console of np${String(node.id)}\n` });
    await remove(provider, node);
    await expectNoLeaks();
  });

  test('no password or token appears in the logs, even at debug level and on errors', async () => {
    const provider = await startProvider();
    sim.state.errorQueue.push('No valid host was found.');
    proxy.inject({ kind: '5xx', count: 2, match: /servers/ });
    const node = await buildingNode(provider);
    const result = await launch(provider, node);
    sim.revokeTokens();
    await remove(provider, node);
    const text = JSON.stringify(logger.lines) + JSON.stringify(result.error?.message ?? '') + JSON.stringify(await zk.getNodes());
    const tokens = [...new Set(sim.requests.map((r) => r.token).filter((t): t is string => t !== null))];
    expect(tokens.length).toBeGreaterThan(0);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(sim.password);
    for (const token of tokens) expect(text).not.toContain(token);
  });
});
