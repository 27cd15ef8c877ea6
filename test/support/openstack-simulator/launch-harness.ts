/**
 * Scaffolding of the OpenStack launch tests: a real ZooKeeper (one per file, a fresh chroot per
 * test), the API simulator behind the fault proxy, and helpers that run NodeLauncher/NodeDeleter
 * with the OpenStack provider and check what is left in the cloud.
 */
import { trace } from '@opentelemetry/api';
import { NodeDeleter } from '../../../src/plugins/node-deleter';
import { NodeLauncher, type LaunchResult } from '../../../src/plugins/node-launcher';
import type { NodepoolConfig } from '../../../src/plugins/nodepool-config';
import { Node } from '../../../src/zk/models/node';
import { NodeRequest } from '../../../src/zk/models/node-request';
import { NodepoolZk } from '../../../src/zk/nodepool-zk';
import { ZkClient } from '../../../src/zk/zk-client';
import { OpenstackProvider } from '../../../plugins/openstack/src/openstack-provider';
import { CaptureLogger } from '../capture-logger';
import { startZooKeeper, type ZooKeeperServer } from '../zookeeper-server';
import { FaultProxy } from './fault-proxy';
import { openstackProviderConfig, RecordingMetrics, simProviderYaml, writeCloudsYaml } from './openstack-fixture';
import { OpenStackSimulator } from './openstack-simulator';

let chrootSeq = 0;

/** See the module comment. Call open/close in beforeAll/afterAll, reset/teardown around each test. */
export class OpenstackLaunchHarness {
  server!: ZooKeeperServer;
  client!: ZkClient;
  zk!: NodepoolZk;
  sim!: OpenStackSimulator;
  proxy!: FaultProxy;
  metrics = new RecordingMetrics();
  logger = new CaptureLogger();
  /** The node request the test's nodes are allocated to (in ZooKeeper). */
  request!: NodeRequest;

  async open(): Promise<void> {
    this.server = await startZooKeeper();
  }

  async close(): Promise<void> {
    await this.server?.stop();
  }

  /** Fresh chroot, simulator (with block storage) and proxy; the catalog points at the proxy. */
  async reset(): Promise<void> {
    this.client = new ZkClient({ hosts: `${this.server.connectString}/openstack-${++chrootSeq}`, sessionTimeout: 4000 });
    await this.client.connect(10000);
    await this.client.ensurePath('/nodepool/nodes');
    await this.client.ensurePath('/nodepool/requests');
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    const request = new NodeRequest();
    Object.assign(request, { node_types: ['small'], requestor: 'zuul-scheduler', event_id: 'ev-42', tenant_name: 'tenant-a' });
    this.request = await this.zk.submitNodeRequest(request);
    this.sim = await new OpenStackSimulator({ buildMs: 100, deleteMs: 50, cinder: true }).start();
    this.proxy = await FaultProxy.start(this.sim.url);
    this.sim.advertisedBase = this.proxy.url;
    this.logger = new CaptureLogger();
    this.metrics = new RecordingMetrics();
  }

  async teardown(): Promise<void> {
    await this.client.close();
    await this.proxy.stop();
    await this.sim.stop();
  }

  /** A started provider on `yamlText`, talking to the simulator through the proxy. */
  async startProvider(yamlText = simProviderYaml({ poolExtra: 'host-key-checking: false' }), cloudExtra?: Record<string, unknown>): Promise<OpenstackProvider> {
    const config = openstackProviderConfig(yamlText);
    const file = writeCloudsYaml(this.sim, { base: this.proxy.url, cloudExtra });
    const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
    const provider = new OpenstackProvider(config, { zk: this.zk, logger: this.logger, tracer: trace.getTracer('test'), metrics: this.metrics, config: whole }, {
      env: { OS_CLIENT_CONFIG_FILE: file, HOME: '/nonexistent' },
      transport: { timeoutMs: 2000, backoffMs: 20, maxBackoffMs: 100 },
      cacheTtls: { servers: 50 },
    });
    await provider.start();
    return provider;
  }

  /** A `building` node, created and locked as the request handler would. */
  async buildingNode(provider: OpenstackProvider): Promise<Node> {
    const node = new Node();
    node.state = 'building';
    node.type = ['small'];
    node.provider = provider.name;
    node.pool = 'main';
    node.allocated_to = this.request.id;
    node.launcher = 'test-launcher';
    await this.zk.createNode(node);
    expect(await this.zk.lockNode(node)).toBeDefined();
    return node;
  }

  launch(provider: OpenstackProvider, node: Node, label = 'small'): Promise<LaunchResult> {
    const pool = provider.config.pools[0];
    return new NodeLauncher({ zk: this.zk, provider, node, label, pool, settings: provider.launchSettings(label, pool), logger: this.logger, pollInterval: 20 }).run();
  }

  /** Deletes the node through NodeDeleter and expects success. */
  async remove(provider: OpenstackProvider, node: Node): Promise<void> {
    expect(await new NodeDeleter({ zk: this.zk, provider, node, logger: this.logger, pollInterval: 20 }).run()).toEqual({ deleted: true });
  }

  /** The node's JSON as stored. */
  async rawBody(id: string): Promise<Record<string, unknown>> {
    const { data } = await this.client.get(`/nodepool/nodes/${id}`);
    return JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
  }

  /** Server creates Nova accepted. */
  serverCreates(): number {
    return this.sim.seen('compute', 'POST').filter((r) => /\/servers$/.test(r.path) && r.status === 202).length;
  }

  /** Nothing left in the cloud (once Nova has purged deleted servers and their ports). */
  async expectNoLeaks(): Promise<void> {
    const { state } = this.sim;
    for (let i = 0; i < 50 && state.servers.size + state.ports.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect([...state.servers.values()]).toEqual([]);
    expect([...state.floatingIps.values()]).toEqual([]);
    expect([...state.ports.values()]).toEqual([]);
  }
}
