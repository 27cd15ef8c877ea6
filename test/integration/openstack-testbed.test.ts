/**
 * The OpenStack provider against a REAL OpenStack (the Debian-package testbed of
 * test/support/openstack-testbed: Keystone, Nova with the fake virt driver, Glance, Neutron) and a
 * real ZooKeeper. Skipped, with the reason, when the testbed is not running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { NodeDeleter } from '../../src/plugins/node-deleter';
import { NodeLauncher } from '../../src/plugins/node-launcher';
import type { NodepoolConfig } from '../../src/plugins/nodepool-config';
import { StateMachineTimeoutError } from '../../src/plugins/run-state-machine';
import { QuotaError } from '../../src/plugins/state-machine';
import { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { CaptureLogger } from '../support/capture-logger';
import { detectTestbed, lockTestbed } from '../support/openstack-testbed';
import { FaultProxy } from '../support/openstack-simulator/fault-proxy';
import { openstackProviderConfig, RecordingMetrics } from '../support/openstack-simulator/openstack-fixture';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(120000);

const testbed = detectTestbed();
if (!testbed.available) {
  // Shown once in the run output, so a skipped suite is never mistaken for a passed one.
  console.warn(`openstack-testbed tests skipped: ${testbed.reason}`);
}
const metrics = new RecordingMetrics();
const describeTestbed = testbed.available ? describe : describe.skip;

const PROVIDER = `
name: testbed
cloud: testbed
region-name: RegionOne
rate: 0.1
launch-timeout: 90
launch-retries: 2
cloud-images:
  - name: tiny
    username: cirros
pools:
  - name: main
    networks: [priv]
    host-key-checking: false
    labels:
      - {name: tiny, cloud-image: tiny, flavor-name: m1.tiny}
      - {name: huge, cloud-image: tiny, flavor-name: np-test-big}
`;

describeTestbed('OpenStack provider on the real testbed', () => {
  let server: ZooKeeperServer;
  let client: ZkClient;
  let zk: NodepoolZk;
  let provider: OpenstackProvider;
  const logger = new CaptureLogger();

  let release = (): void => undefined;

  beforeAll(async () => {
    release = await lockTestbed();
    server = await startZooKeeper();
    client = new ZkClient({ hosts: `${server.connectString}/testbed`, sessionTimeout: 4000 });
    await client.connect(10000);
    await client.ensurePath('/nodepool/nodes');
    zk = new NodepoolZk(client, new CaptureLogger());
    const config = openstackProviderConfig(PROVIDER);
    const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
    provider = new OpenstackProvider(config, { zk, logger, tracer: trace.getTracer('test'), metrics, config: whole }, {
      env: { OS_CLIENT_CONFIG_FILE: testbed.available ? testbed.cloudsFile : '', HOME: '/nonexistent' },
    });
    await provider.start();
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    release();
  });

  async function waitFor(check: () => Promise<boolean>, ms = 30000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function buildingNode(): Promise<Node> {
    const node = new Node();
    Object.assign(node, { state: 'building', type: ['tiny'], provider: 'testbed', pool: 'main', launcher: 'testbed-test' });
    await zk.createNode(node);
    expect(await zk.lockNode(node)).toBeDefined();
    return node;
  }

  async function launch(node: Node, label = 'tiny', via = provider): Promise<Awaited<ReturnType<NodeLauncher['run']>>> {
    const pool = via.config.pools[0];
    return new NodeLauncher({ zk, provider: via, node, label, pool, settings: via.launchSettings(label, pool), logger, pollInterval: 500 }).run();
  }

  test('hooks read the real cloud: flavor quota, limits, AZs, label readiness', async () => {
    const pool = provider.config.pools[0];
    expect(provider.quotaNeededByLabel('tiny', pool).toResources()).toEqual({ instances: 1, cores: 1, ram: 512 });
    expect((await provider.getQuotaLimits()).get('instances')).toBeGreaterThan(0);
    expect(await provider.getAvailabilityZones()).toContain('nova');
    expect(provider.labelReady('tiny', pool)).toBe(true);
  });

  test('launch: ACTIVE server with a floating IP; delete removes server and floating IP', async () => {
    const node = await buildingNode();
    const result = await launch(node);
    expect(result).toMatchObject({ state: 'ready', attempts: 1 });
    expect(node).toMatchObject({ state: 'ready', cloud: 'testbed', region: 'RegionOne', az: 'nova', resources: { instances: 1, cores: 1, ram: 512 } });
    expect(node.private_ipv4).toMatch(/^10\.0\.0\./);
    expect(node.public_ipv4).toMatch(/^203\.0\.113\./);
    expect(node.interface_ip).toBe(node.public_ipv4);
    const listed = await provider.listInstances();
    expect(listed.find((i) => i.externalId === node.external_id)?.metadata).toMatchObject({ nodepool_node_id: node.id, nodepool_provider_name: 'testbed' });

    expect(await new NodeDeleter({ zk, provider, node, logger, pollInterval: 500 }).run()).toEqual({ deleted: true });
    const c = provider.resources.client;
    expect((await c.listServers()).find((s) => s.id === node.external_id && s.status !== 'DELETED')).toBeUndefined();
    expect(await c.listFloatingIps({ floating_ip_address: String(node.public_ipv4) })).toEqual([]);
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain('adminpass');
  });

  test('a server Nova puts in ERROR (no valid host) is deleted and retried; after launch-retries the node fails', async () => {
    const session = provider.resources.client.session;
    // Within quota but bigger than the fake hypervisor (8 GiB): the scheduler finds no host.
    await session.request('compute', { method: 'POST', path: '/flavors', body: { flavor: { name: 'np-test-big', ram: 40000, vcpus: 1, disk: 1 } } })
      .catch((err: Error) => expect(err.message).toContain('409'));
    const node = await buildingNode();
    const result = await launch(node, 'huge');
    expect(result).toMatchObject({ state: 'failed', attempts: 2 });
    expect(result.error?.message).toMatch(/in error state/);
    expect(await new NodeDeleter({ zk, provider, node, logger, pollInterval: 500 }).run()).toEqual({ deleted: true });
    const ours = (await provider.resources.client.listServers()).filter((s) => s.metadata?.nodepool_node_id === node.id && s.status !== 'DELETED');
    expect(ours).toEqual([]);
  });

  test('boot-timeout (nodescan of a real server that has no sshd) and launch-timeout delete what they created', async () => {
    const pool = provider.config.pools[0];
    const settings = { ...provider.launchSettings('tiny', pool), launchRetries: 2, hostKeyChecking: true, bootTimeout: 2 };
    // Node ids restart with each test ZooKeeper: servers an earlier (failed) run left are not ours.
    const before = new Set((await provider.resources.client.listServers()).map((s) => s.id));
    const live = async (n: Node): Promise<string[]> =>
      (await provider.resources.client.listServers()).filter((s) => !before.has(s.id) && s.metadata?.nodepool_node_id === n.id && s.status !== 'DELETED').map((s) => s.id);
    const scanned = await buildingNode();
    const booted = await new NodeLauncher({ zk, provider, node: scanned, label: 'tiny', pool, settings, logger, pollInterval: 500 }).run();
    expect(booted).toMatchObject({ state: 'failed', attempts: 2 });
    // The first attempt's server went before the second was made; the last one is the node's.
    await waitFor(async () => (await live(scanned)).length === 1);
    expect(await live(scanned)).toEqual([scanned.external_id]);
    expect(await new NodeDeleter({ zk, provider, node: scanned, logger, pollInterval: 500 }).run()).toEqual({ deleted: true });
    expect(await live(scanned)).toEqual([]);

    // A real boot with a floating IP takes longer than a second here: launch-timeout 1 s fires.
    const hurried = await buildingNode();
    const timed = await new NodeLauncher({ zk, provider, node: hurried, label: 'tiny', pool, settings: { ...settings, hostKeyChecking: false, launchRetries: 1, launchTimeout: 1 }, logger, pollInterval: 200 }).run();
    expect(timed.state).toBe('failed');
    expect(timed.error).toBeInstanceOf(StateMachineTimeoutError);
    expect(await new NodeDeleter({ zk, provider, node: hurried, logger, pollInterval: 500 }).run()).toEqual({ deleted: true });
    expect(await live(hurried)).toEqual([]);
  });

  test('a real Nova quota refusal (403 Quota exceeded) aborts the launch', async () => {
    const session = provider.resources.client.session;
    const setInstances = async (n: number): Promise<void> => {
      await session.request('compute', { method: 'PUT', path: `/os-quota-sets/${String(session.projectId)}`, body: { quota_set: { instances: n } } });
    };
    // Nova refuses a limit below current usage; a limit equal to it leaves no room.
    const limits = await session.request('compute', { method: 'GET', path: '/limits' });
    await setInstances((limits.body as { limits: { absolute: { totalInstancesUsed: number } } }).limits.absolute.totalInstancesUsed);
    try {
      const node = await buildingNode();
      const result = await launch(node);
      expect(result.state).toBe('aborted');
      expect(result.error).toBeInstanceOf(QuotaError);
      expect(result.error?.message).toMatch(/Quota exceeded for instances/);
    } finally {
      await setInstances(10);
    }
  });

  test('through fault proxies: lost create answers are adopted, 5xx bursts retried, slow answers waited for; nothing leaks', async () => {
    // One proxy per real API; Keystone's proxy points the catalog at the others.
    const ports = { keystone: 5000, nova: 8774, glance: 9292, neutron: 9696 };
    const proxies: Record<string, FaultProxy> = {};
    for (const [name, port] of Object.entries(ports)) proxies[name] = await FaultProxy.start(`http://127.0.0.1:${port}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'testbed-proxy-'));
    try {
      for (const [name, port] of Object.entries(ports)) proxies.keystone.rewrite(`http://127.0.0.1:${port}`, proxies[name].url);
      const cloudsFile = path.join(dir, 'clouds.yaml');
      fs.writeFileSync(cloudsFile, fs.readFileSync(testbed.available ? testbed.cloudsFile : '', 'utf8').replace('http://127.0.0.1:5000', proxies.keystone.url));
      const config = openstackProviderConfig(PROVIDER);
      const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
      const proxied = new OpenstackProvider(config, { zk, logger, tracer: trace.getTracer('test'), metrics, config: whole }, {
        env: { OS_CLIENT_CONFIG_FILE: cloudsFile, HOME: '/nonexistent' },
        transport: { backoffMs: 100 },
      });
      await proxied.start();
      proxies.nova.inject({ kind: 'drop-after-forward', count: 1, match: /POST .*\/servers$/ });
      proxies.nova.inject({ kind: '5xx', count: 3, match: /GET/ });
      proxies.neutron.inject({ kind: 'drop-after-forward', count: 1, match: /POST .*\/floatingips$/ });
      proxies.neutron.inject({ kind: '5xx', count: 2, match: /GET/ });
      proxies.nova.inject({ kind: 'slow', count: 2, delayMs: 1500, match: /GET/ });

      const node = await buildingNode();
      const result = await launch(node, 'tiny', proxied);
      expect(result).toMatchObject({ state: 'ready', attempts: 1 });
      expect(proxies.nova.applied['drop-after-forward']).toBe(1);
      expect(proxies.neutron.applied['drop-after-forward']).toBe(1);
      expect(proxies.nova.applied.slow).toBe(2);
      const c = provider.resources.client;
      const ours = (await c.listServers()).filter((s) => s.metadata?.nodepool_node_id === node.id && s.status !== 'DELETED');
      expect(ours.map((s) => s.id)).toEqual([node.external_id]);
      expect(await c.listFloatingIps({ port_id: (await c.listPorts({ device_id: String(node.external_id) }))[0].id })).toHaveLength(1);

      proxies.nova.inject({ kind: '5xx', count: 2 });
      expect(await new NodeDeleter({ zk, provider: proxied, node, logger, pollInterval: 500 }).run()).toEqual({ deleted: true });
      expect((await c.listServers()).filter((s) => s.metadata?.nodepool_node_id === node.id && s.status !== 'DELETED')).toEqual([]);
      expect((await c.listFloatingIps()).filter((f) => f.floating_ip_address === node.public_ipv4)).toEqual([]);
    } finally {
      for (const p of Object.values(proxies)) await p.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
