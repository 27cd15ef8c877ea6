/**
 * CleanupWorker tasks (spec §4.6) and min-ready (§4.5) against a real ZooKeeper. Each describe
 * works in its own chroot so node and request listings only see its own records. Ages are set
 * through state_time / mtime and an injected clock: no test waits for or asserts on wall time.
 */
import { deleteExpiredHeldNodes } from '../../src/launcher/cleanup/hold-expiry';
import { resetLostRequests } from '../../src/launcher/cleanup/lost-requests';
import { deleteOverageReadyNodes } from '../../src/launcher/cleanup/max-ready-age';
import { MIN_READY_REQUESTOR, MinReady } from '../../src/launcher/cleanup/min-ready';
import { removeEmptyNodes } from '../../src/launcher/cleanup/empty-nodes';
import { deleteOrphanedInitNodes } from '../../src/launcher/cleanup/orphan-init-nodes';
import { failUnreadableRequests } from '../../src/launcher/cleanup/unreadable-requests';
import type { Provider } from '../../src/plugins/driver';
import { removeStaleRequestLocks } from '../../src/launcher/cleanup/stale-request-locks';
import type { LabelConfig, PoolConfig, ProviderConfig } from '../../src/plugins/nodepool-config';
import { KazooLock } from '../../src/zk/kazoo-lock';
import { Node, type NodeFields } from '../../src/zk/models/node';
import { NodeRequest, REQUEST_BODY_KEYS } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { nodeLockPath, nodePath, requestLockPath, requestPath } from '../../src/zk/nodepool-paths';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
const clients: ZkClient[] = [];
/** A fixed "now" far from the wall clock, so a test passing cannot depend on real time. */
const T = 2_000_000_000;

async function connect(chroot?: string): Promise<ZkClient> {
  const client = new ZkClient({ hosts: server.connectString, chroot, sessionTimeout: 4000 });
  clients.push(client);
  await client.connect(10000);
  return client;
}

/** A NodepoolZk in a fresh chroot, plus a second session (another "launcher") in the same one. */
async function tree(name: string): Promise<{ zk: NodepoolZk; other: ZkClient; logger: CaptureLogger }> {
  const root = await connect();
  await root.ensurePath(`/${name}`);
  const logger = new CaptureLogger();
  const zk = new NodepoolZk(await connect(`/${name}`), logger);
  return { zk, other: await connect(`/${name}`), logger };
}

async function makeNode(zk: NodepoolZk, fields: Partial<NodeFields>): Promise<Node> {
  const node = new Node();
  const { state, ...rest } = fields;
  if (state) node.state = state;
  Object.assign(node, rest);
  await zk.createNode(node);
  return node;
}

async function readNode(zk: NodepoolZk, id: string | null): Promise<Node> {
  const node = await zk.getNode(id as string);
  if (!node) throw new Error(`node ${id} missing`);
  return node;
}

async function holdLock(client: ZkClient, path: string): Promise<KazooLock> {
  const lock = new KazooLock(client, path);
  expect(await lock.acquire({ blocking: false })).toBe(true);
  return lock;
}

function provider(name: string, labels: string[]): ProviderConfig {
  const pool: PoolConfig = { name: 'main', maxServers: Infinity, priority: 100, nodeAttributes: null, labels, raw: {} };
  return { name, driver: 'static', maxConcurrency: -1, priority: null, pools: [pool], raw: {}, location: 'test' };
}

function labels(...list: Array<Partial<LabelConfig> & { name: string }>): Map<string, LabelConfig> {
  return new Map(list.map((l) => [l.name, { 'min-ready': 0, 'max-ready-age': 0, ...l }]));
}

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

describe('resetLostRequests', () => {
  test('resets an unlocked pending request: init node -> deleting, allocations cleared', async () => {
    const { zk, logger } = await tree('lost-a');
    const req = new NodeRequest();
    req.state = 'pending';
    req.node_types = ['small', 'small'];
    req.requestor_data = { keep: 'me' };
    await zk.submitNodeRequest(req, '100', { ephemeral: false });
    const init = await makeNode(zk, { state: 'init', provider: 'p1', type: ['small'], allocated_to: req.id });
    const ready = await makeNode(zk, { state: 'ready', provider: 'p1', type: ['small'], allocated_to: req.id });
    const foreign = await makeNode(zk, { state: 'init', provider: 'p1', type: ['small'], allocated_to: '100-0000999999' });
    req.nodes = [ready.id as string];
    await zk.storeNodeRequest(req);

    const result = await resetLostRequests({ zk, logger });

    expect(result.reset).toEqual([req.id]);
    const after = await zk.getNodeRequest(req.id as string);
    expect(after?.state).toBe('requested');
    expect(after?.nodes).toEqual([]);
    expect(after?.requestor_data).toEqual({ keep: 'me' });
    expect(await readNode(zk, init.id)).toMatchObject({ state: 'deleting', allocated_to: null });
    expect(await readNode(zk, ready.id)).toMatchObject({ state: 'ready', allocated_to: null });
    expect(await readNode(zk, foreign.id)).toMatchObject({ state: 'init', allocated_to: '100-0000999999' });
    // All locks released again.
    expect(await zk.client.getChildren(requestLockPath(req.id as string))).toEqual([]);
    expect(await zk.client.getChildren(nodeLockPath(init.id as string))).toEqual([]);
    expect(logger.at('error')).toEqual([]);
  });

  test('leaves a pending request alone while another session holds its lock', async () => {
    const { zk, other, logger } = await tree('lost-b');
    const req = new NodeRequest();
    req.state = 'pending';
    req.node_types = ['small'];
    await zk.submitNodeRequest(req, '100', { ephemeral: false });
    const init = await makeNode(zk, { state: 'init', provider: 'p1', type: ['small'], allocated_to: req.id });
    const lock = await holdLock(other, requestLockPath(req.id as string));

    expect((await resetLostRequests({ zk, logger })).reset).toEqual([]);
    expect((await zk.getNodeRequest(req.id as string))?.state).toBe('pending');
    expect(await readNode(zk, init.id)).toMatchObject({ state: 'init', allocated_to: req.id });
    // Our non-blocking miss left no contender behind.
    expect(await other.getChildren(requestLockPath(req.id as string))).toEqual([lock.node]);

    // Once the holder is gone (its lock vanished), the request is recovered.
    await lock.release();
    expect((await resetLostRequests({ zk, logger })).reset).toEqual([req.id]);
    expect(await readNode(zk, init.id)).toMatchObject({ state: 'deleting', allocated_to: null });
  });
});

describe('removeStaleRequestLocks', () => {
  test('removes only request-less lock dirs older than the threshold', async () => {
    const { zk, logger } = await tree('stale-locks');
    const live = new NodeRequest();
    await zk.submitNodeRequest(live, '100', { ephemeral: false });
    // The live request's lock dir is the oldest of all: only the request's existence protects it.
    await zk.client.ensurePath(requestLockPath(live.id as string));
    await zk.client.ensurePath(requestLockPath('100-0000000500'));
    const oldStat = await zk.client.exists(requestLockPath('100-0000000500'));
    let youngStat = oldStat;
    // Make the young dir's mtime strictly later than the old one's (ms resolution).
    for (let i = 0; youngStat && oldStat && youngStat.mtime <= oldStat.mtime; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await zk.client.deleteRecursive(requestLockPath('100-0000000600'));
      await zk.client.ensurePath(requestLockPath('100-0000000600'));
      youngStat = await zk.client.exists(requestLockPath('100-0000000600'));
    }
    const threshold = 1000;
    // now sits between the two: old is beyond the threshold, young is not.
    const now = (): number => ((oldStat?.mtime ?? 0) + (youngStat?.mtime ?? 0)) / 2000 + threshold;

    const removed = await removeStaleRequestLocks({ zk, logger, now, maxAgeSeconds: threshold });

    expect(removed).toEqual(['100-0000000500']);
    expect(await zk.client.exists(requestLockPath('100-0000000500'))).toBeNull();
    expect(await zk.client.exists(requestLockPath('100-0000000600'))).not.toBeNull();
    expect(await zk.client.exists(requestLockPath(live.id as string))).not.toBeNull();

    // Far in the future: the young one goes too, the live one still stays.
    expect(await removeStaleRequestLocks({ zk, logger, now: () => now() + 10 * threshold, maxAgeSeconds: threshold })).toEqual(['100-0000000600']);
    expect(await zk.client.exists(requestLockPath(live.id as string))).not.toBeNull();
    expect(logger.at('error')).toEqual([]);
  });
});

describe('removeEmptyNodes', () => {
  test('removes empty node znodes (with their lock dirs) and keeps nodes with data', async () => {
    const { zk, logger } = await tree('empty-nodes');
    const real = await makeNode(zk, { state: 'ready', provider: 'p1', type: ['small'] });
    await zk.client.ensurePath(nodeLockPath(real.id as string));
    // What a lock on an already deleted node leaves behind (kazoo ensure_path).
    await zk.client.ensurePath(nodeLockPath('0000099999'));

    expect(await removeEmptyNodes({ zk, logger })).toEqual(['0000099999']);
    expect(await zk.client.exists(nodePath('0000099999'))).toBeNull();
    expect(await readNode(zk, real.id)).toMatchObject({ state: 'ready' });
    expect(await zk.client.exists(nodeLockPath(real.id as string))).not.toBeNull();
  });
});

describe('deleteOverageReadyNodes', () => {
  test('marks only old, ready, unallocated, unlocked nodes of our providers', async () => {
    const { zk, other, logger } = await tree('max-ready-age');
    const config = {
      labels: labels({ name: 'aged', 'max-ready-age': 100 }, { name: 'forever' }),
      providers: new Map([['p1', provider('p1', ['aged', 'forever'])]]),
    };
    const base = { state: 'ready' as const, provider: 'p1', type: ['aged'] };
    const old = await makeNode(zk, { ...base, state_time: T - 200 });
    const exact = await makeNode(zk, { ...base, state_time: T - 100 });
    const young = await makeNode(zk, { ...base, state_time: T - 99.5 });
    const allocated = await makeNode(zk, { ...base, state_time: T - 200, allocated_to: '100-0000000001' });
    const foreign = await makeNode(zk, { ...base, provider: 'p2', state_time: T - 200 });
    const unaged = await makeNode(zk, { ...base, type: ['forever'], state_time: T - 200 });
    const inUse = await makeNode(zk, { ...base, state: 'in-use', state_time: T - 200 });
    const locked = await makeNode(zk, { ...base, state_time: T - 200 });
    const lock = await holdLock(other, nodeLockPath(locked.id as string));

    const marked = await deleteOverageReadyNodes({ zk, logger, config, now: () => T + 0.9 });

    expect(marked.sort()).toEqual([old.id, exact.id].sort());
    expect((await readNode(zk, old.id)).state).toBe('deleting');
    expect((await readNode(zk, exact.id)).state).toBe('deleting');
    for (const kept of [young, allocated, foreign, unaged, locked]) expect((await readNode(zk, kept.id)).state).toBe('ready');
    expect((await readNode(zk, inUse.id)).state).toBe('in-use');
    expect(await other.getChildren(nodeLockPath(locked.id as string))).toEqual([lock.node]);
    await lock.release();
  });
});

describe('failUnreadableRequests', () => {
  test('fails requests nobody can read (not JSON, over the size bound); readable and locked ones are kept', async () => {
    const { zk, other, logger } = await tree('unreadable-requests');
    await zk.client.ensurePath('/nodepool/requests');
    const body = (extra: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ state: 'requested', node_types: ['small'], ...extra }));
    await zk.client.create(requestPath('100-0000000001'), Buffer.from('{not json'));
    await zk.client.create(requestPath('100-0000000002'), body({ requestor: 'x'.repeat(300 * 1024) }));
    await zk.client.create(requestPath('100-0000000003'), body({}));
    await zk.client.create(requestPath('100-0000000004'), Buffer.from('[1, 2]'));
    const lock = await holdLock(other, requestLockPath('100-0000000004'));
    await zk.startCache();
    try {
      for (let i = 0; i < 100 && (zk.unreadableRequestIds()?.length ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 50));
      expect(zk.unreadableRequestIds()?.sort()).toEqual(['100-0000000001', '100-0000000002', '100-0000000004']);

      expect((await failUnreadableRequests({ zk, logger })).sort()).toEqual(['100-0000000001', '100-0000000002']);

      for (const id of ['100-0000000001', '100-0000000002']) {
        const { data } = await zk.client.get(requestPath(id));
        expect(JSON.parse(String(data))).toMatchObject({ state: 'failed', node_types: [] });
      }
      expect(JSON.parse(String((await zk.client.get(requestPath('100-0000000003'))).data)).state).toBe('requested');
      expect(String((await zk.client.get(requestPath('100-0000000004'))).data)).toBe('[1, 2]');
    } finally {
      zk.stopCache();
      await lock.release();
    }
  });
});

describe('deleteOrphanedInitNodes', () => {
  test('marks unlocked init nodes of our providers deleting once they are 10 s old; live launches and others are kept', async () => {
    const { zk, other, logger } = await tree('orphan-init');
    const providers = new Map([['p1', {} as Provider]]);
    const base = { state: 'init' as const, provider: 'p1', type: ['small'], allocated_to: '100-0000000001' };
    const orphan = await makeNode(zk, { ...base, state_time: T - 10 });
    const young = await makeNode(zk, { ...base, state_time: T - 9 });
    const foreign = await makeNode(zk, { ...base, provider: 'p2', state_time: T - 60 });
    const building = await makeNode(zk, { ...base, state: 'building', state_time: T - 60 });
    const locked = await makeNode(zk, { ...base, state_time: T - 60 });
    const lock = await holdLock(other, nodeLockPath(locked.id as string));

    expect(await deleteOrphanedInitNodes({ zk, logger, providers, now: () => T })).toEqual([orphan.id]);

    expect((await readNode(zk, orphan.id)).state).toBe('deleting');
    for (const kept of [young, foreign, locked]) expect((await readNode(zk, kept.id)).state).toBe('init');
    expect((await readNode(zk, building.id)).state).toBe('building');
    await lock.release();
  });
});

describe('deleteExpiredHeldNodes', () => {
  test('honours hold_expiration and max-hold-age; with neither, hold nodes stay forever', async () => {
    const { zk, other, logger } = await tree('hold-expiry');
    const providers = new Map([['p1', provider('p1', ['small'])]]);
    const base = { state: 'hold' as const, provider: 'p1', type: ['small'] };
    const expired = await makeNode(zk, { ...base, hold_expiration: 100, state_time: T - 150 });
    const notYet = await makeNode(zk, { ...base, hold_expiration: 100, state_time: T - 50 });
    const forever = await makeNode(zk, { ...base, state_time: T - 1e6 });
    const longOwn = await makeNode(zk, { ...base, hold_expiration: 1000, state_time: T - 600 });
    const foreign = await makeNode(zk, { ...base, provider: 'p2', hold_expiration: 100, state_time: T - 1e6 });
    const locked = await makeNode(zk, { ...base, hold_expiration: 100, state_time: T - 1e6 });
    const lock = await holdLock(other, nodeLockPath(locked.id as string));
    const now = (): number => T;

    // Without max-hold-age only the node's own expiration counts.
    expect(await deleteExpiredHeldNodes({ zk, logger, now, config: { providers, maxHoldAge: Infinity } })).toEqual([expired.id]);
    for (const kept of [notYet, forever, longOwn, foreign, locked]) expect((await readNode(zk, kept.id)).state).toBe('hold');

    // max-hold-age 500 caps the 1000 s expiration and ends the unlimited hold.
    const marked = await deleteExpiredHeldNodes({ zk, logger, now, config: { providers, maxHoldAge: 500 } });
    expect(marked.sort()).toEqual([forever.id, longOwn.id].sort());
    expect((await readNode(zk, notYet.id)).state).toBe('hold');
    expect((await readNode(zk, foreign.id)).state).toBe('hold');
    expect((await readNode(zk, locked.id)).state).toBe('hold');
    await lock.release();
  });
});

describe('MinReady', () => {
  test('creates exactly the missing requests, waits for them, and cleans up finished ones', async () => {
    const { zk, logger } = await tree('min-ready');
    const config = {
      labels: labels({ name: 'mr', 'min-ready': 3 }, { name: 'none' }, { name: 'unserved', 'min-ready': 2 }),
      providers: new Map([['p1', provider('p1', ['mr', 'none'])]]),
    };
    // Counts: a ready unallocated node of ANY provider; not allocated or non-ready ones.
    await makeNode(zk, { state: 'ready', provider: 'elsewhere', type: ['mr'] });
    await makeNode(zk, { state: 'ready', provider: 'p1', type: ['mr'], allocated_to: '100-0000000042' });
    await makeNode(zk, { state: 'building', provider: 'p1', type: ['mr'] });
    const minReady = new MinReady({ zk, logger });

    const first = await minReady.run(config);
    expect(first.created).toHaveLength(2);
    for (const id of first.created) {
      expect(id).toMatch(/^900-\d{10}$/);
      const { data, stat } = await zk.client.get(requestPath(id));
      expect(stat.ephemeral).toBe(true);
      expect(stat.ephemeralOwner).not.toBe('0000000000000000');
      const body = JSON.parse(String(data));
      expect(Object.keys(body).sort()).toEqual([...REQUEST_BODY_KEYS].sort());
      expect(body).toMatchObject({
        state: 'requested', node_types: ['mr'], nodes: [], declined_by: [], reuse: false,
        requestor: MIN_READY_REQUESTOR, requestor_data: null, provider: null, relative_priority: 0,
        created_time: null, tenant_name: null,
      });
      expect(body.event_id).toMatch(/^[0-9a-f]{32}$/);
    }
    expect((await zk.getNodeRequestIds()).sort()).toEqual([...first.created].sort());

    // Outstanding own requests: nothing new, however few nodes are ready.
    expect((await minReady.run(config)).created).toEqual([]);
    expect(await zk.getNodeRequestIds()).toHaveLength(2);

    // A launcher fulfils one and fails the other.
    const [doneId, failedId] = first.created;
    const node = await makeNode(zk, { state: 'ready', provider: 'p1', type: ['mr'], allocated_to: doneId });
    const done = (await zk.getNodeRequest(doneId)) as NodeRequest;
    done.state = 'fulfilled';
    done.nodes = [node.id as string];
    await zk.storeNodeRequest(done);
    const failed = (await zk.getNodeRequest(failedId)) as NodeRequest;
    failed.state = 'failed';
    await zk.storeNodeRequest(failed);

    const second = await minReady.run(config);
    expect(second.removed.sort()).toEqual([doneId, failedId].sort());
    expect(await zk.client.exists(requestPath(doneId))).toBeNull();
    expect(await zk.client.exists(requestPath(failedId))).toBeNull();
    expect(await readNode(zk, node.id)).toMatchObject({ state: 'ready', allocated_to: null });
    // 2 ready unallocated now, so exactly one more request.
    expect(second.created).toHaveLength(1);
    expect(await zk.getNodeRequestIds()).toEqual(second.created);
    expect(minReady.outstanding).toEqual(new Map([['mr', second.created]]));
    expect(logger.at('error')).toEqual([]);
  });
});

describe('isolation and races', () => {
  test('a node whose lock cannot be had within the timeout is skipped; the request is still reset', async () => {
    const { zk, other, logger } = await tree('lost-c');
    const req = new NodeRequest();
    req.state = 'pending';
    req.node_types = ['small', 'small'];
    await zk.submitNodeRequest(req, '100', { ephemeral: false });
    const stuck = await makeNode(zk, { state: 'init', provider: 'p1', type: ['small'], allocated_to: req.id });
    const free = await makeNode(zk, { state: 'init', provider: 'p1', type: ['small'], allocated_to: req.id });
    const lock = await holdLock(other, nodeLockPath(stuck.id as string));

    expect((await resetLostRequests({ zk, logger, nodeLockTimeout: 0.2 })).reset).toEqual([req.id]);
    expect(await readNode(zk, stuck.id)).toMatchObject({ state: 'init', allocated_to: req.id });
    expect(await readNode(zk, free.id)).toMatchObject({ state: 'deleting', allocated_to: null });
    expect((await zk.getNodeRequest(req.id as string))?.state).toBe('requested');
    expect(logger.at('warn').some((l) => l.fields.node === stuck.id)).toBe(true);
    await lock.release();
  });

  test('one failing node is logged with its id and does not stop the others', async () => {
    const { zk, logger } = await tree('isolation');
    const config = { labels: labels({ name: 'aged', 'max-ready-age': 10 }), providers: new Map([['p1', provider('p1', ['aged'])]]) };
    const bad = await makeNode(zk, { state: 'ready', provider: 'p1', type: ['aged'], state_time: T - 100 });
    const good = await makeNode(zk, { state: 'ready', provider: 'p1', type: ['aged'], state_time: T - 100 });
    // storeNode fails for `bad` only.
    const flaky = new Proxy(zk, {
      get(target, prop, receiver) {
        if (prop === 'storeNode') {
          return async (node: Node) => {
            if (node.id === bad.id) throw new Error('injected store failure');
            return target.storeNode(node);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

    expect(await deleteOverageReadyNodes({ zk: flaky, logger, config, now: () => T })).toEqual([good.id]);
    expect((await readNode(zk, good.id)).state).toBe('deleting');
    expect((await readNode(zk, bad.id)).state).toBe('ready');
    expect(logger.at('error').map((l) => l.fields.node)).toEqual([bad.id]);
    // The failed item's lock was released.
    expect(await zk.client.getChildren(nodeLockPath(bad.id as string))).toEqual([]);
  });

  test('an empty node znode that gets data while being removed is kept', async () => {
    const { zk, logger } = await tree('empty-race');
    await zk.client.ensurePath(nodeLockPath('0000077777'));
    const body = new Node('0000077777');
    body.state = 'ready';
    // Data is written right after we decided the znode was empty (between read and delete).
    const racing = new Proxy(zk.client, {
      get(target, prop, receiver) {
        if (prop === 'deleteRecursive') {
          return async (path: string) => {
            await target.set(nodePath('0000077777'), body.serialize());
            return target.deleteRecursive(path);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const racingZk = new NodepoolZk(racing, logger);

    expect(await removeEmptyNodes({ zk: racingZk, logger })).toEqual([]);
    expect(await readNode(zk, '0000077777')).toMatchObject({ state: 'ready' });
    expect(logger.at('error')).toEqual([]);
  });
});
