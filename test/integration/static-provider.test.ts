/**
 * The static provider against a real ZooKeeper (spec drivers-config §2): registration records,
 * slots, restart, config changes, re-registration after use racing the periodic sync, host
 * checks, liveness, and records deleted behind the provider's back.
 */
import { Server as SshServer, utils } from 'ssh2';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { StaticProvider } from '../../plugins/static/src/static-provider';
import { staticPoolLabels, staticProviderSchema } from '../../plugins/static/src/static-provider-schema';
import type { Metrics } from '../../src/plugins/metrics';
import type { NodepoolConfig, ProviderConfig } from '../../src/plugins/nodepool-config';
import { validateProviderSection } from '../../src/plugins/provider-section';
import { NODE_BODY_KEYS, Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let client: ZkClient;
let zk: NodepoolZk;
let logger: CaptureLogger;
let providers: StaticProvider[] = [];

type HostSpec = Record<string, unknown> & { name: string };

function providerConfig(hosts: HostSpec[], pool: Record<string, unknown> = {}, name = 'static-rack'): ProviderConfig {
  const driver = { name: 'static', providerSchema: staticProviderSchema, poolLabels: staticPoolLabels };
  const raw = { name, driver: 'static', pools: [{ name: 'main', nodes: hosts.map((h) => ({ labels: ['small'], ...h })), ...pool }] };
  const { config, issues } = validateProviderSection(driver, raw, 0, 'nodepool.yaml');
  expect(issues).toEqual([]);
  return config!;
}

function provider(config: ProviderConfig): StaticProvider {
  const whole: NodepoolConfig = {
    file: 'nodepool.yaml', secureFile: null, labels: new Map(), diskimages: new Map(), tenantLimits: new Map(),
    providers: new Map([[config.name, config]]), maxHoldAge: Infinity, webapp: { port: 8005, listenAddress: '0.0.0.0' },
    zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 10,
  };
  const p = new StaticProvider(config, { zk, logger, tracer: trace.getTracer('test'), metrics: {} as Metrics, config: whole });
  providers.push(p);
  return p;
}

/** Records of the provider, sorted by hostname, port and slot. */
async function records(name = 'static-rack'): Promise<Node[]> {
  const nodes = (await zk.getNodes()).filter((n) => n.provider === name);
  return nodes.sort((a, b) => `${a.hostname}:${a.connection_port}:${a.slot}:${a.id}`.localeCompare(`${b.hostname}:${b.connection_port}:${b.slot}:${b.id}`));
}
const live = async (): Promise<Node[]> => (await records()).filter((n) => n.state !== 'deleting');

/** The ed25519 host key of every {@link listen} server. */
const HOST_KEY = utils.generateKeyPairSync('ed25519');
/** Its public half as a nodescan reports it. */
const HOST_KEY_PUBLIC = `ssh-ed25519 ${HOST_KEY.public.split(/\s+/)[1]}`;

/** A real SSH server (no logins) on 127.0.0.1 and its port: what a static host looks like. */
async function listen(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = new SshServer({ hostKeys: [HOST_KEY.private] }, (c) => {
    c.on('error', () => undefined);
    c.on('authentication', (ctx) => ctx.reject());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A port on 127.0.0.1 nobody listens on. */
async function closedPort(): Promise<number> {
  const { port, close } = await listen();
  await close();
  return port;
}

beforeAll(async () => {
  server = await startZooKeeper();
  client = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
  await client.connect(10000);
});

beforeEach(async () => {
  logger = new CaptureLogger();
  zk = new NodepoolZk(client, logger);
  await client.deleteRecursive('/nodepool/nodes');
});

afterEach(async () => {
  await Promise.all(providers.map((p) => p.stop()));
  providers = [];
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe('registration', () => {
  it('writes every Node key with the values of spec §2.2', async () => {
    const config = providerConfig(
      [{
        name: '127.0.0.1', labels: ['small', 'large'], username: 'ci', 'host-key-checking': false, 'host-key': ['ssh-rsa AAAA'],
        'connection-port': 2222, 'shell-type': 'sh', 'python-path': '/usr/bin/python3',
      }],
      { 'node-attributes': { rack: 'a' } },
    );
    await provider(config).start();
    const ids = await zk.getNodeIds();
    expect(ids).toHaveLength(1);
    const body = JSON.parse((await client.get(`/nodepool/nodes/${ids[0]}`)).data!.toString());
    expect(Object.keys(body).sort()).toEqual([...NODE_BODY_KEYS].sort());
    expect(body).toMatchObject({
      state: 'ready', provider: 'static-rack', pool: 'main', launcher: 'static driver', type: ['small', 'large'],
      external_id: '127.0.0.1', hostname: '127.0.0.1', interface_ip: '127.0.0.1', public_ipv4: '127.0.0.1', public_ipv6: null,
      username: 'ci', connection_port: 2222, ssh_port: 2222, connection_type: 'ssh', python_path: '/usr/bin/python3',
      shell_type: 'sh', host_keys: ['ssh-rsa AAAA'], attributes: { rack: 'a' }, slot: 0, allocated_to: null, resources: null,
    });
    expect(body.created_time).toEqual(body.state_time);
  });

  it('registers one record per slot for max-parallel-jobs', async () => {
    await provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 3 }])).start();
    const nodes = await records();
    expect(nodes.map((n) => [n.hostname, n.slot, n.state])).toEqual([['fake-a', 0, 'ready'], ['fake-a', 1, 'ready'], ['fake-a', 2, 'ready']]);
    expect(nodes.every((n) => n.public_ipv4 === null && n.public_ipv6 === null)).toBe(true); // 'fake' names are not resolved
  });

  it('a restart registers nothing new and keeps ids; a changed label is updated in place', async () => {
    const hosts = [{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 2 }];
    const first = provider(providerConfig(hosts));
    await first.start();
    const before = await records();
    await first.stop();
    await provider(providerConfig(hosts)).start();
    expect((await records()).map((n) => n.id)).toEqual(before.map((n) => n.id));

    await provider(providerConfig([{ ...hosts[0], labels: ['big'] }])).start();
    const after = await records();
    expect(after.map((n) => n.id)).toEqual(before.map((n) => n.id));
    expect(after.map((n) => n.type)).toEqual([['big'], ['big']]);
  });
});

describe('config change', () => {
  it('adds new hosts, deregisters idle removed hosts, leaves in-use ones alone', async () => {
    const host = (name: string): HostSpec => ({ name, 'host-key-checking': false });
    const old = provider(providerConfig([host('fake-a'), host('fake-b'), host('fake-c')]));
    await old.start();
    const inUse = (await records()).find((n) => n.hostname === 'fake-c')!;
    inUse.state = 'in-use';
    await zk.storeNode(inUse);
    const idleB = (await records()).find((n) => n.hostname === 'fake-b')!;
    await old.stop();

    await provider(providerConfig([host('fake-a'), host('fake-d')])).start();
    const nodes = await records();
    expect(nodes.map((n) => [n.hostname, n.state])).toEqual([
      ['fake-a', 'ready'], ['fake-b', 'deleting'], ['fake-c', 'in-use'], ['fake-d', 'ready'],
    ]);
    expect(nodes.find((n) => n.hostname === 'fake-b')!.id).toBe(idleB.id);
    expect(await zk.isNodeLocked(idleB.id!)).toBe(false);
  });

  it('lowering max-parallel-jobs deregisters the surplus ready slots', async () => {
    const old = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 3 }]));
    await old.start();
    await old.stop();
    await provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 1 }])).start();
    expect((await records()).map((n) => [n.slot, n.state])).toEqual([[0, 'ready'], [1, 'deleting'], [2, 'deleting']]);
  });

  it('never touches a ready record allocated to a request', async () => {
    const old = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false }]));
    await old.start();
    const node = (await records())[0];
    node.allocated_to = '100-0000000001';
    await zk.storeNode(node);
    await old.stop();
    await provider(providerConfig([{ name: 'fake-b', 'host-key-checking': false }])).start();
    expect((await records()).map((n) => [n.hostname, n.state])).toEqual([['fake-a', 'ready'], ['fake-b', 'ready']]);
  });
});

describe('re-registration', () => {
  it('nodeDeleted re-registers the same slot exactly once even when cleanup runs concurrently', async () => {
    const p = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 2 }]));
    await p.start();
    for (let round = 0; round < 6; round++) {
      const slot = round % 2;
      const victim = (await live()).find((n) => n.slot === slot)!;
      await zk.deleteNode(victim);
      if (round < 2) await p.nodeDeleted(victim); // alone: must not depend on the periodic sync
      else await Promise.all([p.nodeDeleted(victim), p.cleanup(), p.nodeDeleted(victim)]);
      const nodes = await records();
      expect(nodes.map((n) => [n.slot, n.state])).toEqual([[0, 'ready'], [1, 'ready']]);
      expect(nodes.map((n) => n.id)).not.toContain(victim.id);
    }
  });

  it('records deleted together are re-registered in one round (one registration lock, one slot map)', async () => {
    const hosts = ['fake-a', 'fake-b', 'fake-c', 'fake-d'].map((name) => ({ name, 'host-key-checking': false, 'max-parallel-jobs': 2 }));
    const p = provider(providerConfig(hosts));
    await p.start();
    const victims = (await live()).slice(0, 6);
    for (const victim of victims) await zk.deleteNode(victim);
    const before = { ...client.operationCounts };
    await Promise.all(victims.map((v) => p.nodeDeleted(v)));
    const delta = (op: string): number => (client.operationCounts[op] ?? 0) - (before[op] ?? 0);
    // The calls queue up before the first round starts: one round takes all six. A round lists
    // the nodes twice (this NodepoolZk has no cache) and the registration lock once, and creates
    // the lock contender and the records; one round per record would be six times that.
    expect(delta('getChildren')).toBe(3);
    expect(delta('create')).toBe(1 + 6);
    const nodes = await live();
    expect(nodes.map((n) => `${n.hostname}:${n.slot}`).sort()).toEqual(hosts.flatMap((h) => [`${h.name}:0`, `${h.name}:1`]).sort());
  });

  it('an old and a new object of the same provider (config reload) never double-register a slot', async () => {
    const config = providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 2 }]);
    const old = provider(config);
    await old.start();
    const next = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 2 }]));
    for (let round = 0; round < 4; round++) {
      const victim = (await live()).find((n) => n.slot === round % 2)!;
      await zk.deleteNode(victim);
      await Promise.all([next.start(), old.nodeDeleted(victim), next.nodeDeleted(victim), old.cleanup(), next.cleanup()]);
      // No `deleting` extras either: a duplicate would be created and then deregistered as excess.
      expect((await records()).map((n) => [n.slot, n.state])).toEqual([[0, 'ready'], [1, 'ready']]);
    }
  });

  it('nodeDeleted does nothing for a slot beyond max-parallel-jobs or a host no longer configured', async () => {
    const p = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false }]));
    await p.start();
    const stray = Object.assign(new Node('0000009999'), { provider: 'static-rack', hostname: 'fake-a', slot: 1, connection_port: 22 });
    await p.nodeDeleted(stray);
    await p.nodeDeleted(Object.assign(new Node('0000009998'), { provider: 'static-rack', hostname: 'fake-z', slot: 0, connection_port: 22 }));
    expect((await records()).map((n) => n.slot)).toEqual([0]);
  });

  it('cleanup re-creates a record deleted behind our back', async () => {
    const p = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false, 'max-parallel-jobs': 2 }]));
    await p.start();
    const gone = (await records())[1];
    await client.deleteRecursive(`/nodepool/nodes/${gone.id}`);
    expect((await records()).map((n) => n.slot)).toEqual([0]);
    await p.cleanup();
    const nodes = await records();
    expect(nodes.map((n) => n.slot)).toEqual([0, 1]);
    expect(nodes[1].id).not.toBe(gone.id);
  });

  it('hooks are no-ops after stop()', async () => {
    const p = provider(providerConfig([{ name: 'fake-a', 'host-key-checking': false }]));
    await p.start();
    const victim = (await records())[0];
    await zk.deleteNode(victim);
    await p.stop();
    await p.nodeDeleted(victim);
    await p.cleanup();
    expect(await records()).toEqual([]);
  });
});

describe('host checks', () => {
  it('skips an unreachable host with a logged error while reachable ones register, checks in parallel', async () => {
    const up = await listen();
    try {
      const [down1, down2] = [await closedPort(), await closedPort()];
      const hosts = [up.port, down1, down2].map((port) => ({ name: '127.0.0.1', 'connection-port': port, timeout: 1, 'host-key': [HOST_KEY_PUBLIC] }));
      const started = Date.now();
      await provider(providerConfig(hosts)).start();
      expect(Date.now() - started).toBeLessThan(1900); // two 1 s timeouts ran side by side
      const nodes = await records();
      expect(nodes.map((n) => [n.connection_port, n.host_keys])).toEqual([[up.port, [HOST_KEY_PUBLIC]]]);
      const errors = logger.at('error').map((l) => l.msg);
      for (const port of [down1, down2]) {
        expect(errors).toContainEqual(expect.stringContaining(`(127.0.0.1, zuul, ${port}): ConnectionTimeoutException`));
      }
    } finally {
      await up.close();
    }
  });

  it('with host-key-checking off, touches no network (a closed port still registers)', async () => {
    const port = await closedPort();
    await provider(providerConfig([{ name: '127.0.0.1', 'connection-port': port, 'host-key-checking': false, timeout: 1 }])).start();
    expect((await records()).map((n) => n.connection_port)).toEqual([port]);
  });

  it('isNodeUsable: unconfigured false, unchecked true, unreachable false and deregistered', async () => {
    const up = await listen();
    try {
      const down = await closedPort();
      const p = provider(providerConfig([
        { name: '127.0.0.1', 'connection-port': up.port, timeout: 1 },
        { name: '127.0.0.1', 'connection-port': down, timeout: 1, 'host-key-checking': false },
        { name: 'fake-x', 'host-key-checking': false },
      ]));
      await p.start();
      const [reachable, unreachable, fake] = [
        (await records()).find((n) => n.connection_port === up.port)!,
        (await records()).find((n) => n.connection_port === down)!,
        (await records()).find((n) => n.hostname === 'fake-x')!,
      ];
      expect(await p.isNodeUsable(reachable)).toBe(true);
      expect(await p.isNodeUsable(fake)).toBe(true);
      expect(await p.isNodeUsable(Object.assign(new Node('1'), { hostname: 'other', connection_port: 22 }))).toBe(false);
      await up.close();
      // Same record, but now nothing listens: deregistered.
      expect(await p.isNodeUsable(reachable)).toBe(false);
      expect((await zk.getNode(reachable.id!))!.state).toBe('deleting');
      expect((await zk.getNode(unreachable.id!))!.state).toBe('ready');
      // A record that vanished meanwhile (the deleted-node worker got there first) is no error.
      await zk.deleteNode(Object.assign(new Node(), await zk.getNode(reachable.id!)));
      expect(await p.isNodeUsable(reachable)).toBe(false);
      expect(logger.at('error')).toEqual([]);
    } finally {
      await up.close().catch(() => undefined);
    }
  });
});

describe('declineReason', () => {
  it('declines only a disabled pool or a label the pool lacks', () => {
    const config = providerConfig([{ name: 'fake-a', 'host-key-checking': false }]);
    const p = provider(config);
    const request = (types: string[]): NodeRequest => Object.assign(new NodeRequest(), { node_types: types });
    expect(p.declineReason(request(['small']), config.pools[0])).toBeUndefined();
    expect(p.declineReason(request(['small', 'gpu']), config.pools[0])).toBe('node type(s) [gpu] not available');
    expect(p.declineReason(request(['small']), { ...config.pools[0], maxServers: 0 })).toBe('pool is disabled by max_servers');
  });
});
