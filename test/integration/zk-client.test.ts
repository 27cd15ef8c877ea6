/**
 * ZkClient and NodepoolZk against a real ZooKeeper: chroot, trailing-slash sequential creates,
 * recursive delete, typed errors, multi, watches, and the tolerant readers.
 */
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { BadVersionError, NodeExistsError, NoNodeError, NotEmptyError, ZK_ERROR_CODES, ZkError } from '../../src/zk/zk-errors';
import { CaptureLogger } from '../support/capture-logger';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

// jest's testTimeout in a `projects` entry is ignored (it is a global option), so set it here.
jest.setTimeout(30000);

let server: ZooKeeperServer;
const clients: ZkClient[] = [];

async function connect(hosts = server.connectString, chroot?: string): Promise<ZkClient> {
  const client = new ZkClient({ hosts, chroot, sessionTimeout: 4000 });
  clients.push(client);
  await client.connect(10000);
  return client;
}

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

describe('ZkClient', () => {
  test('connects and reports a session id', async () => {
    const zk = await connect();
    expect(zk.state).toBe('connected');
    expect(zk.sessionId).toMatch(/^[0-9a-f]{16}$/);
  });

  test('sequential create on a path ending in / gives a bare 10-digit name', async () => {
    const zk = await connect();
    await zk.ensurePath('/seqdir/nodes');
    const first = await zk.create('/seqdir/nodes/', Buffer.from('a'), { sequential: true });
    const second = await zk.create('/seqdir/nodes/', Buffer.from('b'), { sequential: true });
    expect(first).toMatch(/^\/seqdir\/nodes\/\d{10}$/);
    expect(second).toMatch(/^\/seqdir\/nodes\/\d{10}$/);
    expect(second > first).toBe(true);
    expect((await zk.get(first)).data?.toString()).toBe('a');
    // makeParents works for the trailing-slash form too.
    expect(await zk.create('/seqdir/fresh/deeper/', Buffer.alloc(0), { sequential: true, makeParents: true })).toMatch(
      /^\/seqdir\/fresh\/deeper\/0000000000$/,
    );
    // Only sequential creates may end in '/'.
    await expect(zk.create('/seqdir/nodes/', Buffer.alloc(0))).rejects.toMatchObject({ code: ZK_ERROR_CODES.BAD_ARGUMENTS, path: '/seqdir/nodes/' });
  });

  test('chroot: paths are relative to it, created paths and watch events are stripped', async () => {
    const zk = await connect(`${server.connectString}/chroot-a/inner`);
    const root = await connect();
    await root.ensurePath('/chroot-a');
    expect(zk.chroot).toBe('/chroot-a/inner');
    // ensurePath creates the chroot node itself, like kazoo.
    await zk.ensurePath('/nodepool/nodes');
    expect(await root.exists('/chroot-a/inner/nodepool/nodes')).not.toBeNull();

    const node = await zk.create('/nodepool/nodes/', Buffer.from('x'), { sequential: true });
    expect(node).toMatch(/^\/nodepool\/nodes\/\d{10}$/);
    const seq = await zk.create('/nodepool/nodes/n-', Buffer.alloc(0), { sequential: true, ephemeral: true });
    expect(seq).toMatch(/^\/nodepool\/nodes\/n-\d{10}$/);
    expect((await root.get(`/chroot-a/inner${node}`)).data?.toString()).toBe('x');
    expect((await zk.getChildren('/nodepool/nodes')).sort()).toEqual([node, seq].map((p) => p.split('/').pop()).sort());

    const events: string[] = [];
    await zk.get(node, (e) => events.push(`${e.type} ${e.path}`));
    await root.set(`/chroot-a/inner${node}`, Buffer.from('y'));
    await waitFor(() => events.length > 0);
    expect(events).toEqual([`changed ${node}`]);

    // An explicit chroot option replaces the one in the connect string.
    const other = await connect(`${server.connectString}/ignored`, '/chroot-a/inner');
    expect(other.chroot).toBe('/chroot-a/inner');
    expect(await other.exists(node)).not.toBeNull();
  });

  test('deleteRecursive removes a deep tree depth-first and tolerates a missing path', async () => {
    const zk = await connect();
    const paths: string[] = [];
    const build = (prefix: string, depth: number): void => {
      if (depth === 0) return;
      for (const name of ['a', 'b', 'c']) {
        paths.push(`${prefix}/${name}`);
        build(`${prefix}/${name}`, depth - 1);
      }
    };
    build('/deep', 5); // 363 znodes, 5 levels below /deep
    await zk.ensurePath('/deep');
    for (const p of paths) await zk.create(p, Buffer.from(p));
    expect(await zk.exists('/deep/c/c/c/c/c')).not.toBeNull();
    await zk.deleteRecursive('/deep');
    expect(await zk.exists('/deep')).toBeNull();
    await expect(zk.deleteRecursive('/deep')).resolves.toBeUndefined();
  });

  test('errors are typed and name the znode path', async () => {
    const zk = await connect();
    const noNode = await zk.get('/missing/thing').catch((e: unknown) => e);
    expect(noNode).toBeInstanceOf(NoNodeError);
    expect(noNode).toBeInstanceOf(ZkError);
    expect(noNode).toBeInstanceOf(Error);
    expect((noNode as NoNodeError).code).toBe(-101);
    expect((noNode as Error).message).toContain('/missing/thing');

    await zk.ensurePath('/errs/child');
    await expect(zk.create('/errs')).rejects.toBeInstanceOf(NodeExistsError);
    await expect(zk.create('/errs')).rejects.toThrow('/errs');
    const stat = await zk.set('/errs', Buffer.from('1'));
    await expect(zk.set('/errs', Buffer.from('2'), stat.version + 5)).rejects.toBeInstanceOf(BadVersionError);
    await expect(zk.delete('/errs')).rejects.toBeInstanceOf(NotEmptyError);
    await expect(zk.delete('/errs')).rejects.toThrow(/NOT_EMPTY.*\/errs/);
    await expect(zk.getChildren('/nope')).rejects.toBeInstanceOf(NoNodeError);
    await expect(zk.exists('/nope')).resolves.toBeNull();
  });

  test('ensurePath creates persistent empty ancestors', async () => {
    const zk = await connect();
    await zk.ensurePath('/ens/a/b/c');
    for (const p of ['/ens', '/ens/a', '/ens/a/b', '/ens/a/b/c']) {
      const { data, stat } = await zk.get(p);
      expect(data).toEqual(Buffer.alloc(0));
      expect(stat.ephemeral).toBe(false);
    }
    await expect(zk.ensurePath('/ens/a/b/c')).resolves.toBeUndefined();
  });

  test('multi is atomic and honours version 0 checks (the library turns 0 into -1)', async () => {
    const zk = await connect();
    await zk.create('/multi', Buffer.from('v0'));
    await zk.set('/multi', Buffer.from('v1')); // now version 1
    const failed = await zk
      .transaction()
      .create('/multi/a')
      .check('/multi', 0)
      .commit()
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(BadVersionError);
    expect((failed as Error).message).toContain('/multi');
    expect(await zk.exists('/multi/a')).toBeNull();

    const results = await zk.multi([
      { op: 'create', path: '/multi/', sequential: true },
      { op: 'check', path: '/multi', version: 1 },
      { op: 'set', path: '/multi', data: Buffer.from('v2'), version: 1 },
      { op: 'create', path: '/multi/b', data: Buffer.from('b') },
      { op: 'delete', path: '/multi/b', version: 0 },
    ]);
    expect(results[0]).toEqual({ op: 'create', path: expect.stringMatching(/^\/multi\/\d{10}$/) });
    expect(results[2]).toMatchObject({ op: 'set', stat: { version: 2 } });
    expect(await zk.exists('/multi/b')).toBeNull();
  });

  test('ephemeral znodes carry our session id as owner; watches fire once', async () => {
    const zk = await connect();
    const path = await zk.create('/eph', Buffer.alloc(0), { ephemeral: true });
    const { stat } = await zk.get(path);
    expect(stat.ephemeral).toBe(true);
    expect(stat.ephemeralOwner).toBe(zk.sessionId);

    const seen: string[] = [];
    await zk.exists('/later', (e) => seen.push(e.type));
    await zk.getChildren('/eph', (e) => seen.push(e.type));
    await zk.create('/later');
    await zk.delete('/eph');
    await waitFor(() => seen.length >= 2);
    expect(seen.sort()).toEqual(['created', 'deleted']);
  });

  test('a closed client rejects operations', async () => {
    const zk = await connect();
    await zk.close();
    expect(zk.state).toBe('closed');
    await expect(zk.get('/')).rejects.toMatchObject({ code: ZK_ERROR_CODES.CONNECTION_LOSS });
  });

  test('connect times out with a clear error when nothing listens', async () => {
    const zk = new ZkClient({ hosts: '127.0.0.1:1', sessionTimeout: 2000, spinDelay: 50 });
    await expect(zk.connect(500)).rejects.toThrow(/no connection to 127\.0\.0\.1:1 within 500 ms/);
    await zk.close();
  });
});

describe('NodepoolZk readers and writers', () => {
  test('getNodes skips a bad znode, logging its path, and returns the valid ones', async () => {
    const client = await connect(`${server.connectString}/tolerant`);
    await client.ensurePath('/');
    const logger = new CaptureLogger();
    const zk = new NodepoolZk(client, logger);
    const a = new Node();
    a.type = ['small'];
    await zk.createNode(a);
    const b = new Node();
    b.state = 'ready';
    await zk.storeNode(b); // no id yet: creates
    expect(a.id).toMatch(/^\d{10}$/);
    expect(b.created_time).toBe(b.state_time);
    await client.create('/nodepool/nodes/9999999998', Buffer.from('{not json'));
    await client.create('/nodepool/nodes/9999999999', Buffer.from(JSON.stringify({ state: 'exploded' })));
    await client.create('/nodepool/nodes/0000099999', Buffer.alloc(0)); // empty: left by a lock's ensure_path

    const nodes = await zk.getNodes();
    expect(nodes.map((n) => n.id).sort()).toEqual([a.id, b.id].sort());
    const errors = logger.at('error').map((l) => l.msg);
    expect(errors).toHaveLength(2);
    expect(errors.some((m) => m.includes('/nodepool/nodes/9999999998') && m.includes('invalid JSON'))).toBe(true);
    expect(errors.some((m) => m.includes('/nodepool/nodes/9999999999') && m.includes('exploded'))).toBe(true);
    expect(await zk.getNode('missing')).toBeUndefined();

    await client.create('/nodepool/requests/100-0000000001', Buffer.from('[]'), { makeParents: true });
    const req = new NodeRequest();
    req.node_types = ['small'];
    await zk.submitNodeRequest(req, 200);
    expect(req.id).toMatch(/^200-\d{10}$/);
    expect(req.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect((await zk.getNodeRequests()).map((r) => r.id)).toEqual([req.id]);
    expect(logger.at('error').some((l) => l.msg.includes('/nodepool/requests/100-0000000001'))).toBe(true);
  });

  test('node and request lifecycle: store, lock, contenders, delete', async () => {
    const client = await connect(`${server.connectString}/lifecycle`);
    await client.ensurePath('/');
    const zk = new NodepoolZk(client, new CaptureLogger());
    const node = new Node();
    node.provider = 'p';
    await zk.createNode(node);
    const id = node.id as string;

    const lock = await zk.lockNode(node, { blocking: false, identifier: 'me' });
    expect(lock?.isAcquired).toBe(true);
    expect(await zk.getNodeLockContenders(id)).toEqual(['me']);
    expect(await zk.isNodeLocked(id)).toBe(true);
    // A second object cannot lock it without blocking.
    const other = (await zk.getNode(id)) as Node;
    expect(await zk.lockNode(other, { blocking: false })).toBeUndefined();
    expect(await zk.lockNode(other, { blocking: true, timeout: 0.3 })).toBeUndefined();
    expect(await client.getChildren(`/nodepool/nodes/${id}/lock`)).toHaveLength(1);

    node.state = 'ready';
    await zk.storeNode(node);
    expect((await zk.getNode(id))?.state).toBe('ready');
    await zk.unlockNode(node);
    expect(await zk.isNodeLocked(id)).toBe(false);
    expect(await client.exists(`/nodepool/nodes/${id}/lock`)).not.toBeNull(); // lock dir stays

    // lockNode refreshes the object in place.
    const stale = new Node(id);
    expect(await zk.lockNode(stale, { blocking: false })).toBeDefined();
    expect(stale.state).toBe('ready');
    expect(stale.provider).toBe('p');

    // deleteNode: state 'deleted' first, then lock children, lock dir and node.
    const seen: string[] = [];
    await client.get(`/nodepool/nodes/${id}`, (e) => seen.push(e.type));
    await zk.deleteNode(stale);
    expect(seen[0]).toBe('changed');
    expect(await client.exists(`/nodepool/nodes/${id}`)).toBeNull();

    const req = new NodeRequest();
    await zk.submitNodeRequest(req, '100', { ephemeral: false });
    expect((await client.get(`/nodepool/requests/${req.id}`)).stat.ephemeral).toBe(false);
    const reqLock = await zk.lockNodeRequest(req, { blocking: false });
    expect(reqLock?.path).toBe(`/nodepool/requests-lock/${req.id}`);
    req.state = 'pending';
    await zk.storeNodeRequest(req, { checkVersion: true });
    const copy = (await zk.getNodeRequest(req.id as string)) as NodeRequest;
    expect(copy.state).toBe('pending');
    copy.relative_priority = 3;
    await zk.storeNodeRequest(copy, { checkVersion: true });
    await expect(zk.storeNodeRequest(req, { checkVersion: true })).rejects.toBeInstanceOf(BadVersionError);
    await zk.unlockNodeRequest(req);
    await zk.deleteNodeRequest(req.id as string);
    await zk.deleteNodeRequest(req.id as string);
    expect(await zk.getNodeRequest(req.id as string)).toBeUndefined();
  });

  test('fulfilNodeRequest: one transaction, claiming a never-locked request; nothing written on failure', async () => {
    const client = await connect(`${server.connectString}/fulfil`);
    await client.ensurePath('/');
    const zk = new NodepoolZk(client, new CaptureLogger());
    const fresh = async (): Promise<{ node: Node; req: NodeRequest }> => {
      const node = new Node();
      node.state = 'ready';
      node.provider = 'p';
      await zk.createNode(node);
      const req = new NodeRequest();
      req.node_types = ['small'];
      await zk.submitNodeRequest(req, '100', { ephemeral: false });
      expect(await zk.lockNode(node, { blocking: false, refresh: false })).toBeDefined();
      node.allocated_to = req.id;
      req.nodes = [node.id as string];
      req.state = 'fulfilled';
      return { node, req };
    };

    const { node, req } = await fresh();
    // No lock root yet: the claim fails on it (the caller then locks the ordinary way).
    await expect(zk.fulfilNodeRequest(req, [node], { claimLock: true })).rejects.toMatchObject({ path: `/nodepool/requests-lock/${req.id}` });
    await client.ensurePath('/nodepool/requests-lock');
    const before = client.operationCounts.multi ?? 0;
    await zk.fulfilNodeRequest(req, [node], { claimLock: true });
    expect((client.operationCounts.multi ?? 0) - before).toBe(1);
    expect((await zk.getNodeRequest(req.id as string))).toMatchObject({ state: 'fulfilled', nodes: [node.id] });
    expect((await zk.getNode(node.id as string))?.allocated_to).toBe(req.id);
    expect(await zk.isNodeLocked(node.id as string)).toBe(false);
    // The lock dir stays (as after any kazoo release), empty.
    expect(await client.getChildren(`/nodepool/requests-lock/${req.id}`)).toEqual([]);
    await expect(zk.unlockNode(node)).rejects.toThrow(/not locked/);

    // Somebody locked the request once: the claim fails and nothing is written.
    const second = await fresh();
    await client.create(`/nodepool/requests-lock/${second.req.id}`, Buffer.alloc(0), { makeParents: true });
    await expect(zk.fulfilNodeRequest(second.req, [second.node], { claimLock: true })).rejects.toMatchObject({
      code: ZK_ERROR_CODES.NODE_EXISTS, path: `/nodepool/requests-lock/${second.req.id}`,
    });
    expect((await zk.getNodeRequest(second.req.id as string))?.state).toBe('requested');
    expect(await zk.isNodeLocked(second.node.id as string)).toBe(true);
    // Under the request lock instead: the same write, which also releases that lock.
    const locked = (await zk.getNodeRequest(second.req.id as string)) as NodeRequest;
    expect(await zk.lockNodeRequest(locked, { blocking: false })).toBeDefined();
    Object.assign(locked, { state: 'fulfilled', nodes: second.req.nodes });
    await zk.fulfilNodeRequest(locked, [second.node]);
    expect(await client.getChildren(`/nodepool/requests-lock/${second.req.id}`)).toEqual([]);
    expect((await zk.getNodeRequest(second.req.id as string))?.state).toBe('fulfilled');

    // A node changed since our copy: BadVersion on that node, nothing written, still locked.
    const third = await fresh();
    const meanwhile = (await zk.getNode(third.node.id as string)) as Node;
    meanwhile.comment = 'changed behind our back';
    await zk.storeNode(meanwhile);
    await expect(zk.fulfilNodeRequest(third.req, [third.node], { claimLock: true })).rejects.toMatchObject({
      code: ZK_ERROR_CODES.BAD_VERSION, path: `/nodepool/nodes/${third.node.id}`,
    });
    expect((await zk.getNodeRequest(third.req.id as string))?.state).toBe('requested');
    expect(await client.exists(`/nodepool/requests-lock/${third.req.id}`)).toBeNull();
    expect((await zk.getNode(third.node.id as string))?.allocated_to).toBeNull();
    await zk.unlockNode(third.node);
  });

  test('fulfilNodeRequest with nodes we did not lock: the transaction checks their locks free', async () => {
    const client = await connect(`${server.connectString}/fulfil-unlocked`);
    await client.ensurePath('/nodepool/requests-lock');
    const zk = new NodepoolZk(client, new CaptureLogger());
    const fresh = async (): Promise<{ node: Node; req: NodeRequest }> => {
      const node = new Node();
      node.state = 'ready';
      await zk.createNode(node);
      const req = new NodeRequest();
      await zk.submitNodeRequest(req, '100', { ephemeral: false });
      node.allocated_to = req.id;
      Object.assign(req, { state: 'fulfilled', nodes: [node.id] });
      return { node, req };
    };
    // Never locked: the lock dir is created (and stays, empty). One round trip for everything.
    const a = await fresh();
    const before = { ...client.operationCounts };
    await zk.fulfilNodeRequest(a.req, [a.node], { claimLock: true });
    expect((client.operationCounts.multi ?? 0) - (before.multi ?? 0)).toBe(1);
    expect(Object.keys(client.operationCounts).filter((op) => op !== 'multi' && (client.operationCounts[op] ?? 0) !== (before[op] ?? 0))).toEqual([]);
    expect(await client.getChildren(`/nodepool/nodes/${a.node.id}/lock`)).toEqual([]);
    expect((await zk.getNode(a.node.id as string))?.allocated_to).toBe(a.req.id);
    expect((await zk.getNodeRequest(a.req.id as string))?.state).toBe('fulfilled');

    // Locked and released before (the dir exists, empty), though never written: guessed again.
    const b = await fresh();
    const other = (await zk.getNode(b.node.id as string)) as Node;
    await zk.lockNode(other, { blocking: false });
    await zk.unlockNode(other);
    await zk.fulfilNodeRequest(b.req, [b.node], { claimLock: true });
    expect((await zk.getNode(b.node.id as string))?.allocated_to).toBe(b.req.id);

    // Held by somebody: NotEmpty on its lock dir, nothing written, the holder keeps its lock.
    const c = await fresh();
    const holder = (await zk.getNode(c.node.id as string)) as Node;
    holder.comment = 'written under the lock';
    await zk.lockNode(holder, { blocking: false });
    await zk.storeNode(holder);
    c.node.version = holder.version;
    await expect(zk.fulfilNodeRequest(c.req, [c.node], { claimLock: true })).rejects.toMatchObject({
      code: ZK_ERROR_CODES.NOT_EMPTY, path: `/nodepool/nodes/${c.node.id}/lock`,
    });
    expect(await zk.isNodeLocked(c.node.id as string)).toBe(true);
    expect((await zk.getNode(c.node.id as string))?.allocated_to).toBeNull();
    expect((await zk.getNodeRequest(c.req.id as string))?.state).toBe('requested');
    await zk.unlockNode(holder);
  });

  test('deleteUnlockedNode: deleted, lock dir and node in one step; busy while anyone contends', async () => {
    const client = await connect(`${server.connectString}/delete-unlocked`);
    await client.ensurePath('/');
    const zk = new NodepoolZk(client, new CaptureLogger());
    const make = async (): Promise<Node> => {
      const node = new Node();
      node.state = 'used';
      node.provider = 'p';
      await zk.createNode(node);
      return node;
    };
    // Never locked: no lock dir.
    const plain = await make();
    expect(await zk.deleteUnlockedNode(plain)).toBe('deleted');
    expect(await client.exists(`/nodepool/nodes/${plain.id}`)).toBeNull();
    expect(await zk.deleteUnlockedNode(plain)).toBe('gone');

    const held = await make();
    const holder = (await zk.getNode(held.id as string)) as Node;
    expect(await zk.lockNode(holder, { blocking: false })).toBeDefined();
    expect(await zk.deleteUnlockedNode(held)).toBe('busy');
    expect(held.state).toBe('used'); // our copy is left as it was
    expect((await zk.getNode(held.id as string))?.state).toBe('used');
    await zk.unlockNode(holder);
    expect(await zk.deleteUnlockedNode(held)).toBe('deleted');
    expect(await client.exists(`/nodepool/nodes/${held.id}`)).toBeNull();

    const stale = await make();
    const newer = (await zk.getNode(stale.id as string)) as Node;
    newer.state = 'hold';
    await zk.storeNode(newer);
    expect(await zk.deleteUnlockedNode(stale)).toBe('changed');
    expect((await zk.getNode(stale.id as string))?.state).toBe('hold');
  });

  test('component registration: sorted-key body, update with version, unregister', async () => {
    const client = await connect(`${server.connectString}/components`);
    await client.ensurePath('/');
    const zk = new NodepoolZk(client, new CaptureLogger());
    const reg = await zk.registerComponent('pool', {
      hostname: 'tshost', kind: 'pool', state: 'running', version: '0.1.0', model_api: 0,
      id: 'tshost-PoolWorker.p-main-abc', name: 'main', provider_name: 'p', supported_labels: ['small'], priority: 100, paused: false,
    });
    expect(reg.path).toMatch(/^\/nodepool\/components\/pool\/tshost\d{10}$/);
    const body = (await client.get(reg.path as string)).data?.toString() as string;
    expect(Object.keys(JSON.parse(body))).toEqual([...Object.keys(JSON.parse(body))].sort());
    await reg.update({ paused: true });
    const pools = await zk.getRegisteredPools();
    expect(pools).toHaveLength(1);
    expect(pools[0]).toMatchObject({ id: 'tshost-PoolWorker.p-main-abc', paused: true, supported_labels: ['small'] });
    // Someone else wrote it: our cached version is stale.
    await client.set(reg.path as string, Buffer.from(body));
    await expect(reg.update({ paused: false })).rejects.toBeInstanceOf(BadVersionError);
    await reg.unregister();
    expect(await zk.getRegisteredPools()).toEqual([]);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
