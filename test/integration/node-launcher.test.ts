/**
 * NodeLauncher and NodeDeleter on a real ZooKeeper, against the SDK's FakeProvider: the node
 * records they leave behind (spec §2.1) and the retry / timeout / quota rules of spec §4.8.
 */
import { NodeDeleter } from '../../src/plugins/node-deleter';
import { NodeLauncher, type NodeLaunchSettings } from '../../src/plugins/node-launcher';
import type { PoolConfig, ProviderConfig } from '../../src/plugins/nodepool-config';
import { NodescanError } from '../../src/plugins/nodescan';
import { StateMachineCancelledError, StateMachineTimeoutError } from '../../src/plugins/run-state-machine';
import { QuotaError } from '../../src/plugins/state-machine';
import { FakeCloud, type FakeCloudOptions } from '../../src/plugins/testing/fake-cloud';
import { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { Node, NODE_BODY_KEYS } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { freePort, startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
let client: ZkClient;
let zk: NodepoolZk;
let chrootSeq = 0;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  // A fresh chroot per test keeps node ids (and fake instance numbering) predictable.
  client = new ZkClient({ hosts: `${server.connectString}/launcher-${++chrootSeq}`, sessionTimeout: 4000 });
  await client.connect(10000);
  await client.ensurePath('/nodepool/nodes');
  zk = new NodepoolZk(client, new CaptureLogger());
});

afterEach(async () => {
  await client.close();
});

const pool: PoolConfig = { name: 'main', maxServers: Infinity, priority: 100, nodeAttributes: { color: 'blue' }, labels: ['small'], raw: {} };
const providerConfig: ProviderConfig = { name: 'fake-provider', driver: 'fake', maxConcurrency: -1, priority: null, pools: [pool], raw: {}, location: 'test' };

function settings(overrides: Partial<NodeLaunchSettings> = {}): NodeLaunchSettings {
  return {
    launchRetries: 3, launchTimeout: 5, bootTimeout: 1, hostKeyChecking: true, connectionType: 'ssh', connectionPort: 22,
    username: 'zuul', pythonPath: 'auto', shellType: null, imageId: 'fake-image', imageExternalId: 'fake-image-id', ...overrides,
  };
}

function fakeProvider(options: FakeCloudOptions = {}): FakeProvider {
  return new FakeProvider(providerConfig, new FakeCloud(options));
}

/** A `building` node, created and locked as the request handler would. */
async function buildingNode(): Promise<Node> {
  const node = new Node();
  node.state = 'building';
  node.type = ['small'];
  node.provider = providerConfig.name;
  node.pool = pool.name;
  node.allocated_to = '100-0000000001';
  node.launcher = 'test-launcher';
  await zk.createNode(node);
  expect(await zk.lockNode(node)).toBeDefined();
  return node;
}

function launcher(provider: FakeProvider, node: Node, launchSettings: NodeLaunchSettings, signal?: AbortSignal): NodeLauncher {
  return new NodeLauncher({ zk, provider, node, label: 'small', pool, settings: launchSettings, logger: new CaptureLogger(), pollInterval: 10, signal });
}

async function rawBody(id: string): Promise<Record<string, unknown>> {
  const { data } = await client.get(`/nodepool/nodes/${id}`);
  return JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
}

describe('NodeLauncher', () => {
  test('launches a node to ready with every §2.1 key, instance fields and fake host keys', async () => {
    const provider = fakeProvider({ bootSteps: 3, attributes: { rack: 'r1' } });
    const node = await buildingNode();
    const result = await launcher(provider, node, settings()).run();
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });

    const body = await rawBody(node.id as string);
    expect(Object.keys(body).sort()).toEqual([...NODE_BODY_KEYS].sort());
    expect(body).toMatchObject({
      state: 'ready', type: ['small'], provider: 'fake-provider', pool: 'main', external_id: 'fake-1',
      interface_ip: 'fake-10.0.0.1', public_ipv4: 'fake-10.0.0.1', private_ipv4: 'fake-10.0.0.1', public_ipv6: null,
      cloud: 'fake-cloud', region: 'fake-region', az: 'fake-az', host_id: 'fake-host-fake-1',
      connection_type: 'ssh', connection_port: 22, ssh_port: 22, username: 'zuul', python_path: 'auto', image_id: 'fake-image',
      host_keys: ['ssh-rsa FAKEKEY'], resources: { instances: 1 }, attributes: { color: 'blue', rack: 'r1' },
      allocated_to: '100-0000000001', launcher: 'test-launcher', driver_data: { fake: true, status: 'active' },
    });
    const inst = provider.cloud.instances.get('fake-1');
    expect(inst?.metadata).toEqual({ nodepool_node_id: node.id, nodepool_pool_name: 'main', nodepool_provider_name: 'fake-provider' });
    expect(inst?.hostname).toBe(`np${node.id}`);
    // The launcher leaves the lock to its caller.
    expect(await zk.getNodeLockContenders(node.id as string)).toHaveLength(1);
  });

  test('with host-key-checking off no scan runs and no host keys are stored', async () => {
    const provider = fakeProvider();
    const node = await buildingNode();
    expect((await launcher(provider, node, settings({ hostKeyChecking: false })).run()).state).toBe('ready');
    expect((await rawBody(node.id as string)).host_keys).toEqual([]);
  });

  test('failed attempts are cleaned up and retried on the same node until one succeeds', async () => {
    const provider = fakeProvider();
    provider.cloud.failNext(2);
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 3 })).run();
    expect(result).toEqual({ state: 'ready', attempts: 3, statsKey: 'ready' });
    expect([...provider.cloud.instances.keys()]).toEqual(['fake-3']);
    expect(provider.cloud.instances.get('fake-3')?.metadata.nodepool_node_id).toBe(node.id);
    expect(await rawBody(node.id as string)).toMatchObject({ state: 'ready', external_id: 'fake-3' });
  });

  test('launch-retries is the total number of attempts: exhausted → failed', async () => {
    const provider = fakeProvider();
    provider.cloud.failNext(3, 'no valid host');
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 3 })).run();
    expect(result.state).toBe('failed');
    expect(result.attempts).toBe(3);
    expect(result.error?.message).toContain('no valid host');
    expect(result.statsKey).toBe('error.unknown');
    // The last partial instance stays recorded on the node for the deleter.
    expect(await rawBody(node.id as string)).toMatchObject({ state: 'failed', external_id: 'fake-3' });
    expect([...provider.cloud.instances.keys()]).toEqual(['fake-3']);
  });

  test('a hanging instance hits launch-timeout, which counts as an attempt', async () => {
    const provider = fakeProvider();
    provider.cloud.hangNext();
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 2, launchTimeout: 0.2 })).run();
    expect(result).toEqual({ state: 'ready', attempts: 2, statsKey: 'ready' });
    expect([...provider.cloud.instances.keys()]).toEqual(['fake-2']);
  });

  test('launch-timeout with no retries left fails the node; external_id was stored while it hung', async () => {
    const provider = fakeProvider();
    provider.cloud.hangNext();
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 1, launchTimeout: 0.2 })).run();
    expect(result.state).toBe('failed');
    expect(result.attempts).toBe(1);
    expect(result.error).toBeInstanceOf(StateMachineTimeoutError);
    expect(result.statsKey).toBe('error.servercreatetimeout');
    expect(await rawBody(node.id as string)).toMatchObject({ state: 'failed', external_id: 'fake-1' });
  });

  test('a quota error aborts the node without counting an attempt', async () => {
    const provider = fakeProvider();
    provider.cloud.quotaNext();
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 1 })).run();
    expect(result.state).toBe('aborted');
    expect(result.attempts).toBe(0);
    expect(result.error).toBeInstanceOf(QuotaError);
    expect(result.statsKey).toBe('error.quota');
    expect((await rawBody(node.id as string)).state).toBe('aborted');
    expect(provider.cloud.instances.size).toBe(0);
  });

  test('nodescan against a closed port fails the node after boot-timeout', async () => {
    const port = await freePort();
    const provider = fakeProvider({ ipAddress: '127.0.0.1' });
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 1, bootTimeout: 0.3, connectionPort: port })).run();
    expect(result.state).toBe('failed');
    expect(result.error).toBeInstanceOf(NodescanError);
    expect(result.statsKey).toBe('error.keyscan');
    expect(await rawBody(node.id as string)).toMatchObject({ state: 'failed', interface_ip: '127.0.0.1', connection_port: port });
  });

  test('a nodescan failure is reported to the provider before the attempt is cleaned up', async () => {
    const port = await freePort();
    const seen: { node: string | null; instances: number }[] = [];
    const provider = fakeProvider({ ipAddress: '127.0.0.1' });
    Object.assign(provider, {
      nodescanFailed: async (n: Node): Promise<void> => {
        seen.push({ node: n.id, instances: provider.cloud.instances.size });
      },
    });
    const node = await buildingNode();
    const result = await launcher(provider, node, settings({ launchRetries: 2, bootTimeout: 0.2, connectionPort: port })).run();
    expect(result.state).toBe('failed');
    // Once per failed scan, each time with the instance still there.
    expect(seen).toEqual([{ node: node.id, instances: 1 }, { node: node.id, instances: 1 }]);
  });

  test('aborting the signal cancels the launch and leaves the node building', async () => {
    const provider = fakeProvider();
    provider.cloud.hangNext();
    const node = await buildingNode();
    const controller = new AbortController();
    const run = launcher(provider, node, settings({ launchTimeout: 60 }), controller.signal).run();
    while (provider.cloud.instances.size === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(run).rejects.toBeInstanceOf(StateMachineCancelledError);
    expect((await rawBody(node.id as string)).state).toBe('building');
  });
});

describe('NodeDeleter', () => {
  async function readyNode(provider: FakeProvider): Promise<Node> {
    const node = await buildingNode();
    expect((await launcher(provider, node, settings()).run()).state).toBe('ready');
    return node;
  }

  function deleter(provider: FakeProvider, node: Node): NodeDeleter {
    return new NodeDeleter({ zk, provider, node, logger: new CaptureLogger(), pollInterval: 10 });
  }

  test('deletes the instance and the node znode, then tells the provider', async () => {
    const provider = fakeProvider();
    const node = await readyNode(provider);
    expect(await deleter(provider, node).run()).toEqual({ deleted: true });
    expect(await client.exists(`/nodepool/nodes/${node.id}`)).toBeNull();
    expect(provider.cloud.instances.size).toBe(0);
    expect(provider.deletedNodes.map((n) => n.id)).toEqual([node.id]);
    expect(node.state).toBe('deleted');
  });

  test('an instance that is already gone counts as deleted', async () => {
    const provider = fakeProvider();
    const node = await readyNode(provider);
    provider.cloud.instances.clear();
    expect(await deleter(provider, node).run()).toEqual({ deleted: true });
    expect(await client.exists(`/nodepool/nodes/${node.id}`)).toBeNull();
  });

  test('a delete error keeps the node in deleting and unlocks it for a later retry', async () => {
    const provider = fakeProvider();
    const node = await readyNode(provider);
    provider.cloud.failDeleteNext();
    const result = await deleter(provider, node).run();
    expect(result.deleted).toBe(false);
    expect(result.error?.message).toContain('fake delete failure');
    expect((await rawBody(node.id as string)).state).toBe('deleting');
    expect(await zk.getNodeLockContenders(node.id as string)).toEqual([]);
    expect(provider.cloud.instances.has('fake-1')).toBe(true);
    expect(provider.deletedNodes).toEqual([]);

    // The retry (by the engine) succeeds.
    expect(await zk.lockNode(node)).toBeDefined();
    expect(await deleter(provider, node).run()).toEqual({ deleted: true });
    expect(provider.cloud.instances.size).toBe(0);
  });
});
