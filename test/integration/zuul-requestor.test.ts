/**
 * ZuulRequestor against a real ZooKeeper, driven by a tiny fake launcher that follows the
 * launcher's fulfilment order (spec §4.4): lock request, `pending`, ready node with
 * `allocated_to`, node unlocked, request `fulfilled`, request lock released.
 */
import { KazooLock } from '../../src/zk/kazoo-lock';
import { Node } from '../../src/zk/models/node';
import { REQUEST_BODY_KEYS } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { nodeLockPath, nodePath, requestLockPath, requestPath } from '../../src/zk/nodepool-paths';
import { ConnectionLossError } from '../../src/zk/zk-errors';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { loadSample } from '../support/spec-samples';
import { ZuulRequestor } from '../support/zuul-requestor';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

// jest's testTimeout in a `projects` entry is ignored (it is a global option), so set it here.
jest.setTimeout(30000);

let server: ZooKeeperServer;
const clients: ZkClient[] = [];
let zuulZk: NodepoolZk;
let launcherZk: NodepoolZk;

async function connect(): Promise<NodepoolZk> {
  const client = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
  clients.push(client);
  await client.connect(10000);
  return new NodepoolZk(client, new CaptureLogger());
}

beforeAll(async () => {
  server = await startZooKeeper();
  // Separate sessions, as Zuul and the launcher are separate processes.
  zuulZk = await connect();
  launcherZk = await connect();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

/**
 * The fake launcher: fulfils request `id` with one ready node per label. `allocateTo` overrides
 * each node's `allocated_to` (index-aligned) to simulate a node handed to another request.
 */
async function fulfil(id: string, allocateTo: (string | undefined)[] = []): Promise<string[]> {
  const lock = new KazooLock(launcherZk.client, requestLockPath(id));
  expect(await lock.acquire({ blocking: true, timeout: 5 })).toBe(true);
  try {
    const req = await launcherZk.getNodeRequest(id);
    if (!req) throw new Error(`request ${id} vanished`);
    req.state = 'pending';
    await launcherZk.storeNodeRequest(req);
    const ids: string[] = [];
    for (const [i, label] of req.node_types.entries()) {
      const node = new Node();
      Object.assign(node, { type: [label], provider: 'fake', pool: 'main', launcher: 'fake-pool', allocated_to: allocateTo[i] ?? id, tenant_name: req.tenant_name, requestor: req.requestor });
      await launcherZk.createNode(node);
      expect(await launcherZk.lockNode(node, { blocking: false })).toBeDefined();
      node.state = 'ready';
      await launcherZk.storeNode(node);
      await launcherZk.unlockNode(node);
      ids.push(node.id as string);
    }
    req.nodes = ids;
    req.state = 'fulfilled';
    await launcherZk.storeNodeRequest(req);
    return ids;
  } finally {
    await lock.release();
  }
}

/** The fake launcher's decline path: every pool declined, so the request fails. */
async function fail(id: string): Promise<void> {
  const lock = new KazooLock(launcherZk.client, requestLockPath(id));
  expect(await lock.acquire({ blocking: true, timeout: 5 })).toBe(true);
  const req = await launcherZk.getNodeRequest(id);
  if (!req) throw new Error(`request ${id} vanished`);
  req.declined_by.push('fake-pool');
  req.state = 'failed';
  await launcherZk.storeNodeRequest(req);
  await lock.release();
}

/** Waits until a request exists (what a launcher's watch would notice), then runs `act` on it. */
async function whenSubmitted(act: (id: string) => Promise<unknown>): Promise<void> {
  for (;;) {
    const ids = await launcherZk.getNodeRequestIds();
    if (ids.length > 0) {
      await act(ids[0]);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lockChildren = (id: string): Promise<string[]> => launcherZk.client.getChildren(nodeLockPath(id)).catch(() => []);

afterEach(async () => {
  // Each test starts with an empty request tree, so whenSubmitted sees only its own request.
  for (const id of await launcherZk.getNodeRequestIds()) await launcherZk.deleteNodeRequest(id);
});

describe('ZuulRequestor', () => {
  test('submit writes a persistent request with exactly the 13 keys, in the sample order', async () => {
    const zuul = new ZuulRequestor(zuulZk, { requestor: 'zuul-sample', tenant: 'tenant-a' });
    const sub = await zuul.submit({ labels: ['small', 'small'] });
    expect(sub.id).toMatch(/^\d{3}-\d{10}$/);
    expect(sub.id.startsWith('200-')).toBe(true);
    const { data, stat } = await launcherZk.client.get(requestPath(sub.id));
    expect(stat.ephemeralOwner).toBe('0000000000000000');
    expect(stat.ephemeral).toBe(false);
    const body = JSON.parse(String(data));
    const sample = loadSample<{ request_as_submitted: { body: Record<string, unknown> } }>('zk-static-interop.json').request_as_submitted.body;
    expect(Object.keys(body)).toEqual(Object.keys(sample));
    expect(Object.keys(body)).toEqual([...REQUEST_BODY_KEYS]);
    expect(body).toMatchObject({ state: 'requested', declined_by: [], nodes: [], node_types: ['small', 'small'], reuse: true, requestor: 'zuul-sample', provider: null, relative_priority: 0, tenant_name: 'tenant-a' });
    expect(Object.keys(body.requestor_data)).toEqual(Object.keys(sample.requestor_data as object));
    expect(body.requestor_data).toMatchObject({ tenant_name: 'tenant-a', span_info: null });
    expect(body.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.created_time).toBeGreaterThanOrEqual(body.state_time);

    const high = await zuul.submit({ labels: ['small'], priority: 5, relativePriority: 3, reuse: false, provider: 'p1' });
    expect(high.id).toMatch(/^005-\d{10}$/);
    expect((await launcherZk.getNodeRequest(high.id))?.toDict()).toMatchObject({ relative_priority: 3, reuse: false, provider: 'p1' });
  });

  test('waitFor is woken by a watch; accept deletes the request and keeps the nodes in-use and locked; release returns them', async () => {
    // A fallback poll far beyond the test timeout proves the wake-up came from the watch.
    const zuul = new ZuulRequestor(zuulZk, { pollMs: 600000 });
    const sub = await zuul.submit({ labels: ['a', 'b'] });
    setTimeout(() => void fulfil(sub.id), 100);
    const started = Date.now();
    const req = await zuul.waitFor(sub.id);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(req.state).toBe('fulfilled');
    expect(req.nodes).toHaveLength(2);

    const nodeSet = await zuul.accept(req, { projectName: 'org/p' });
    expect(nodeSet.nodeIds).toEqual(req.nodes);
    expect(await launcherZk.client.exists(requestPath(sub.id))).toBeNull();
    for (const [i, id] of nodeSet.nodeIds.entries()) {
      const node = await launcherZk.getNode(id);
      expect(node?.state).toBe('in-use');
      expect(node?.user_data).toEqual({ zuul_system: 'zuul-test', project_name: 'org/p' });
      expect(node?.type).toEqual([['a', 'b'][i]]);
      // Held by the requestor's contender (no identifier, like Zuul's lockNode); the launcher
      // cannot take it.
      expect(await lockChildren(id)).toEqual([nodeSet.locks[i].node]);
      expect(await launcherZk.getNodeLockContenders(id)).toEqual(['']);
      expect(await launcherZk.lockNode(new Node(id), { blocking: false })).toBeUndefined();
    }

    await zuul.release(nodeSet);
    for (const id of nodeSet.nodeIds) {
      expect((await launcherZk.getNode(id))?.state).toBe('used');
      expect(await lockChildren(id)).toEqual([]);
    }
  });

  test('release with hold stores the hold fields and unlocks', async () => {
    const zuul = new ZuulRequestor(zuulZk);
    const sub = await zuul.submit({ labels: ['a'] });
    await fulfil(sub.id);
    const nodeSet = await zuul.accept(await zuul.waitFor(sub.id));
    await zuul.release(nodeSet, { state: 'hold', comment: 'debugging', holdJob: 't p j .*', holdExpiration: 3600 });
    const node = await launcherZk.getNode(nodeSet.nodeIds[0]);
    expect(node?.toDict()).toMatchObject({ state: 'hold', comment: 'debugging', hold_job: 't p j .*', hold_expiration: 3600 });
    expect(await lockChildren(nodeSet.nodeIds[0])).toEqual([]);
  });

  test('a node allocated elsewhere makes accept throw, leaving no lock behind (request deleted like Zuul)', async () => {
    const zuul = new ZuulRequestor(zuulZk);
    const sub = await zuul.submit({ labels: ['a', 'b'] });
    // The first node is ours (gets locked, then must be unlocked again); the second is not.
    const ids = await fulfil(sub.id, [undefined, '200-0000009999']);
    const req = await zuul.waitFor(sub.id);
    await expect(zuul.accept(req)).rejects.toThrow(`node ${ids[1]} allocated to "200-0000009999", not ${sub.id}`);
    for (const id of ids) {
      expect(await lockChildren(id)).toEqual([]);
      expect((await launcherZk.getNode(id))?.state).toBe('ready');
    }
    expect(await launcherZk.client.exists(requestPath(sub.id))).toBeNull();
  });

  test('a store failing after the nodes were locked makes accept throw and release every lock', async () => {
    // The requestor's session outlives a connection loss: a lock it kept after giving up would
    // stay held for good, and no launcher could de-allocate the nodes of the deleted request.
    let failed = false;
    const flaky = new Proxy(zuulZk, {
      get(target, prop, receiver): unknown {
        if (prop !== 'storeNode') return Reflect.get(target, prop, receiver);
        return async (node: Node): Promise<void> => {
          if (failed) return target.storeNode(node);
          failed = true;
          throw new ConnectionLossError(nodePath(node.id as string), 'injected lost connection');
        };
      },
    });
    const zuul = new ZuulRequestor(flaky);
    const sub = await zuul.submit({ labels: ['a', 'b'] });
    const ids = await fulfil(sub.id);
    await expect(zuul.accept(await zuul.waitFor(sub.id))).rejects.toThrow('CONNECTION_LOSS');
    expect(failed).toBe(true);
    for (const id of ids) {
      expect(await lockChildren(id)).toEqual([]);
      expect((await launcherZk.getNode(id))?.toDict()).toMatchObject({ state: 'ready', allocated_to: sub.id });
    }
    expect(await launcherZk.client.exists(requestPath(sub.id))).toBeNull();
  });

  test('accept waits for a busy node lock and re-checks allocated_to after getting it', async () => {
    const zuul = new ZuulRequestor(zuulZk);
    const sub = await zuul.submit({ labels: ['a'] });
    const [id] = await fulfil(sub.id);
    const req = await zuul.waitFor(sub.id);
    // The launcher grabs the node before Zuul does and hands it to another request meanwhile.
    const theirs = new Node(id);
    expect(await launcherZk.lockNode(theirs, { blocking: false })).toBeDefined();
    const accepting = zuul.accept(req);
    await new Promise((r) => setTimeout(r, 200));
    theirs.allocated_to = '100-0000000042';
    await launcherZk.storeNode(theirs);
    await launcherZk.unlockNode(theirs);
    await expect(accepting).rejects.toThrow(`node ${id} was reallocated during locking to "100-0000000042", not ${sub.id}`);
    expect(await lockChildren(id)).toEqual([]);
  });

  test('waitFor times out with a clear error, and rejects when the request vanishes', async () => {
    const zuul = new ZuulRequestor(zuulZk, { pollMs: 50 });
    const sub = await zuul.submit({ labels: ['a'] });
    await expect(zuul.waitFor(sub.id, ['fulfilled'], 300)).rejects.toThrow(
      `timed out after 300 ms waiting for request ${sub.id} to become fulfilled: still requested (declined_by: [])`,
    );
    setTimeout(() => void zuul.cancel(sub.id), 100);
    await expect(zuul.waitFor(sub.id, ['fulfilled'], 5000)).rejects.toThrow(`request ${sub.id} vanished`);
    expect(await zuul.cancel(sub.id)).toBe(false);
  });

  test('runJob goes submit → fulfilled → accept → used, and reports a failed request with declined_by', async () => {
    const zuul = new ZuulRequestor(zuulZk);
    const fake = whenSubmitted((id) => fulfil(id));
    const result = await zuul.runJob({ labels: ['a'], holdMs: 20 });
    await fake;
    expect(result.requestId).toMatch(/^200-\d{10}$/);
    expect(result.nodeIds).toHaveLength(1);
    expect(result.fulfilledMs).toBeGreaterThanOrEqual(0);
    expect(result.totalMs).toBeGreaterThanOrEqual(result.fulfilledMs + 20);
    expect((await launcherZk.getNode(result.nodeIds[0]))?.state).toBe('used');
    expect(await lockChildren(result.nodeIds[0])).toEqual([]);

    const failing = whenSubmitted((id) => fail(id));
    await expect(zuul.runJob({ labels: ['no-such-label'] })).rejects.toThrow(/failed; declined_by: \["fake-pool"\]/);
    await failing;
    expect(await launcherZk.getNodeRequestIds()).toEqual([]);
  });
});
