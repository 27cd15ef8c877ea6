/**
 * The engine with launching providers (the SDK's fake driver) against a real ZooKeeper:
 * requests fulfilled by launches (init → building → ready), launch retries and launch-timeout,
 * failed launches that decline and free their quota, quota errors that pause instead of failing,
 * pools at quota that keep declining what they can never serve while another pool serves the
 * rest, tenant limits, reuse:false and multi-node requests.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { type Node, NODE_BODY_KEYS } from '../../src/zk/models/node';
import { ConnectionLossError } from '../../src/zk/zk-errors';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

const h = new EngineHarness();

function fakeProvider(launcher: Launcher, name: string): FakeProvider {
  const runtime = launcher.engine.runtimes.get(name);
  if (!runtime) throw new Error(`provider ${name} is not running`);
  return runtime.provider as FakeProvider;
}

/** One fake provider; `extra` goes under the provider, `pool` under its single pool. */
function fakeConfig(opts: { name?: string; provider?: string; pool?: string; labels?: string; top?: string } = {}): string {
  const name = opts.name ?? 'fake-a';
  const labels = opts.labels ?? '          - name: small\n';
  return (
    `labels:\n  - name: small\n  - name: big\n${opts.top ?? ''}` +
    `providers:\n  - name: ${name}\n    driver: fake\n${opts.provider ?? ''}    pools:\n      - name: main\n${opts.pool ?? ''}        labels:\n${labels}`
  );
}

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

describe('launching engine (fake driver)', () => {
  it('launches a node for a request: building then ready, every node key, used node deleted with its instance', async () => {
    const launcher = await h.startLauncher('a', fakeConfig({ provider: '    boot-steps: 3\n' }));
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    const sub = await h.zuul.submit({ labels: ['small'] });
    const seenBuilding = await waitUntil('a building node', async () => (await h.nodes((n) => n.state === 'building')).length > 0);
    expect(seenBuilding).toBe(true);
    const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    expect(req.declined_by).toEqual([]);
    const node = (await h.zk.getNode(req.nodes[0]))!;
    const raw = JSON.parse((await h.client.get(`/nodepool/nodes/${node.id}`)).data!.toString()) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual([...NODE_BODY_KEYS].sort());
    expect(node).toMatchObject({
      state: 'ready', type: ['small'], provider: 'fake-a', pool: 'main', allocated_to: sub.id,
      host_keys: ['ssh-rsa FAKEKEY'], resources: { instances: 1 }, connection_type: 'ssh', username: 'zuul',
    });
    expect(node.launcher).toMatch(/^a-PoolWorker\.fake-a-main-[0-9a-f]{32}$/);
    expect(node.external_id).toBe([...cloud.instances.keys()][0]);
    expect(cloud.instances.get(node.external_id as string)?.metadata).toMatchObject({
      nodepool_node_id: node.id, nodepool_provider_name: 'fake-a', nodepool_pool_name: 'main',
    });
    // The request lock is released once fulfilled.
    expect(await h.client.getChildren(`/nodepool/requests-lock/${sub.id}`).catch(() => [])).toEqual([]);

    const nodeSet = await h.zuul.accept(req);
    await h.zuul.release(nodeSet);
    await waitUntil('the used node deleted', async () => !(await h.zk.getNode(node.id as string)));
    expect(cloud.instances.size).toBe(0);
  });

  it('retries a failing launch up to launch-retries on the same node', async () => {
    const launcher = await h.startLauncher('a', fakeConfig({ provider: '    launch-retries: 3\n' }));
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    cloud.failNext(2);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    expect(cloud.creates).toBe(3);
    expect(cloud.instances.size).toBe(1); // the two failed attempts were cleaned up
    expect(await h.nodes()).toHaveLength(1);
  });

  it('a launch-timeout counts as a failed attempt and deletes what it created', async () => {
    const launcher = await h.startLauncher('a', fakeConfig({ provider: '    launch-retries: 2\n    launch-timeout: 0.5\n' }));
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    cloud.hangNext(1);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    expect(cloud.creates).toBe(2);
    expect(cloud.instances.size).toBe(1);
  });

  it('a launch that fails every attempt fails the request (our pool in declined_by) and frees its quota', async () => {
    const launcher = await h.startLauncher('a', fakeConfig({ provider: '    launch-retries: 2\n', pool: '        max-servers: 1\n' }));
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    cloud.failNext(2);
    const failed = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(failed.state).toBe('failed');
    expect(failed.declined_by).toEqual([launcher.engine.pools[0].id]);
    await waitUntil('the failed node deleted', async () => (await h.nodes()).length === 0);
    // max-servers 1: the next request gets the slot the failed node held.
    const ok = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(ok.state).toBe('fulfilled');
  });

  it('a node whose `building` write fails is not left locked: marked deleting, unlocked, deleted', async () => {
    const launcher = await h.startLauncher('a', fakeConfig());
    // The write is lost with the connection while the session survives (a blip, a ZooKeeper
    // restart): the node lock, taken just before, lives on with the session.
    const zk = launcher.kernel.container.get<ZooKeeper>(ZooKeeper);
    const storeNode = zk.storeNode.bind(zk);
    let injected = false;
    zk.storeNode = async (node: Node): Promise<void> => {
      if (injected || node.state !== 'building') return storeNode(node);
      injected = true;
      throw new ConnectionLossError(`/nodepool/nodes/${node.id}`, 'injected lost connection');
    };
    const failed = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(injected).toBe(true);
    expect(failed.state).toBe('failed');
    await waitUntil('the unlaunched node deleted', async () => (await h.nodes()).length === 0, 10000);
  });

  it('a quota error from the cloud aborts the launch without failing the request; the pool pauses and serves it later', async () => {
    const launcher = await h.startLauncher('a', fakeConfig());
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    cloud.quotaNext(2);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    expect(req.declined_by).toEqual([]);
    expect(cloud.creates).toBe(3);
  });

  it('at max-servers: waits (pool paused) instead of failing, declines what can never fit, and another pool serves the rest', async () => {
    const a = await h.startLauncher('a', fakeConfig({
      pool: '        max-servers: 1\n        max-cores: 4\n',
      labels: '          - name: small\n            resources: {cores: 2}\n          - name: big\n            resources: {cores: 8}\n',
    }));
    // Alone, pool A declines what can never fit its max-cores (4) and the request fails.
    const never = await h.zuul.waitFor((await h.zuul.submit({ labels: ['big'] })).id, ['fulfilled', 'failed'], 15000);
    expect(never.state).toBe('failed');
    expect(never.declined_by).toEqual([a.engine.pools[0].id]);
    const first = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(first.state).toBe('fulfilled');
    const held = await h.zuul.accept(first);
    // Pool full: a second small request waits, pending under A's lock, the pool marked paused.
    const waiting = await h.zuul.submit({ labels: ['small'] });
    await waitUntil('the pool paused', async () => a.engine.pools[0].paused);
    const comps = await h.client.getChildren('/nodepool/components/pool');
    const record = JSON.parse((await h.client.get(`/nodepool/components/pool/${comps[0]}`)).data!.toString()) as { paused: boolean };
    expect(record.paused).toBe(true);
    // A second provider: while A stays paused, new requests flow to B and none waits on A.
    await h.startLauncher('b', fakeConfig({ name: 'fake-b', labels: '          - name: small\n          - name: big\n' }));
    for (const labels of [['small'], ['big'], ['small', 'big']]) {
      const req = await h.zuul.waitFor((await h.zuul.submit({ labels })).id, ['fulfilled', 'failed'], 15000);
      expect(req.state).toBe('fulfilled');
      for (const id of req.nodes) expect((await h.zk.getNode(id))?.provider).toBe('fake-b');
    }
    expect((await h.zk.getNodeRequest(waiting.id))?.state).toBe('pending');
    expect(a.engine.pools[0].paused).toBe(true);
    // Capacity frees: the waiting request is served by pool A.
    await h.zuul.release(held);
    const served = await h.zuul.waitFor(waiting.id, ['fulfilled', 'failed'], 15000);
    expect(served.state).toBe('fulfilled');
    expect((await h.zk.getNode(served.nodes[0]))?.provider).toBe('fake-a');
    await waitUntil('the pool unpaused', async () => !a.engine.pools[0].paused);
  });

  it('tenant-resource-limits defer a tenant over its limit without failing, other tenants flow', async () => {
    await h.startLauncher('a', fakeConfig({ top: 'tenant-resource-limits:\n  - tenant-name: t1\n    max-servers: 1\n' }));
    const first = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'], tenant: 't1' })).id, ['fulfilled', 'failed'], 15000);
    const held = await h.zuul.accept(first);
    const second = await h.zuul.submit({ labels: ['small'], tenant: 't1' });
    const other = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'], tenant: 't2' })).id, ['fulfilled', 'failed'], 15000);
    expect(other.state).toBe('fulfilled');
    expect((await h.zk.getNodeRequest(second.id))?.state).toBe('requested');
    await h.zuul.release(held);
    expect((await h.zuul.waitFor(second.id, ['fulfilled', 'failed'], 15000)).state).toBe('fulfilled');
  });

  it('reuse:false launches a new node although a ready one exists; multi-node requests get index-aligned nodes', async () => {
    await h.startLauncher('a', fakeConfig({ labels: '          - name: small\n          - name: big\n' }));
    const first = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    const set = await h.zuul.accept(first);
    // Give the node back as ready and unallocated (as min-ready does), then ask without reuse.
    const ready = set.nodes[0];
    ready.state = 'ready';
    ready.allocated_to = null;
    await h.zk.storeNode(ready);
    for (const lock of set.locks) await lock.release();
    const noReuse = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'], reuse: false })).id, ['fulfilled', 'failed'], 15000);
    expect(noReuse.state).toBe('fulfilled');
    expect(noReuse.nodes[0]).not.toBe(ready.id);
    const reuse = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(reuse.nodes).toEqual([ready.id]);

    const multi = await h.zuul.waitFor((await h.zuul.submit({ labels: ['big', 'small', 'big'] })).id, ['fulfilled', 'failed'], 15000);
    expect(multi.state).toBe('fulfilled');
    const types = await Promise.all(multi.nodes.map(async (id) => (await h.zk.getNode(id))?.type));
    expect(types).toEqual([['big'], ['small'], ['big']]);
    expect(new Set(multi.nodes).size).toBe(3);
  });

  it('min-ready keeps ready nodes; max-ready-age deletes them when they grow old', async () => {
    await h.startLauncher('a', fakeConfig({ top: '' }).replace('  - name: small\n', '  - name: small\n    min-ready: 2\n'));
    await waitUntil('two ready unallocated small nodes', async () => (await h.nodes((n) => n.state === 'ready' && !n.allocated_to)).length === 2);
    await sleep(600);
    expect((await h.nodes()).length).toBe(2); // no over-provisioning
    // Taking one makes min-ready launch a replacement.
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    await waitUntil('two ready unallocated again', async () => (await h.nodes((n) => n.state === 'ready' && !n.allocated_to)).length === 2);
    await h.stopLaunchers();

    await h.startLauncher('a', fakeConfig().replace('  - name: small\n', '  - name: small\n    max-ready-age: 1\n'));
    await waitUntil('unallocated ready nodes deleted by max-ready-age', async () => (await h.nodes((n) => !n.allocated_to)).length === 0, 20000);
    expect((await h.nodes()).map((n) => n.allocated_to)).toEqual([req.id]);
  });

  it('a held node is deleted once its hold_expiration passed; one without expiry stays', async () => {
    await h.startLauncher('a', fakeConfig());
    const expiring = await h.zuul.accept(await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled'], 15000));
    const forever = await h.zuul.accept(await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled'], 15000));
    await h.zuul.release(expiring, { state: 'hold', comment: 'debug', holdExpiration: 1 });
    await h.zuul.release(forever, { state: 'hold', comment: 'debug' });
    await waitUntil('the expired hold deleted', async () => !(await h.zk.getNode(expiring.nodeIds[0])), 20000);
    await sleep(1000);
    expect((await h.zk.getNode(forever.nodeIds[0]))?.state).toBe('hold');
  });

  it('deletes a leaked instance (our tags, no node) on the second cleanup pass only; never ours or untagged ones', async () => {
    const launcher = await h.startLauncher('a', fakeConfig(), { cleanupIntervalMs: 3_600_000 });
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled'], 15000);
    const ours = (await h.zk.getNode(req.nodes[0]))!.external_id as string;
    const leak = cloud.createMachine({ hostname: 'np9999', label: 'small', pool: 'main', imageExternalId: null, metadata: { nodepool_node_id: '9999999999', nodepool_pool_name: 'main', nodepool_provider_name: 'fake-a' }, nodeId: '9999999999', requestId: null, az: null });
    const other = cloud.createMachine({ hostname: 'foreign', label: 'small', pool: 'main', imageExternalId: null, metadata: { nodepool_node_id: '9999999998', nodepool_provider_name: 'someone-else' }, nodeId: '9999999998', requestId: null, az: null });
    const untagged = cloud.createMachine({ hostname: 'pet', label: 'small', pool: 'main', imageExternalId: null, metadata: {}, nodeId: '', requestId: null, az: null });
    for (const m of [leak, other, untagged]) while (!m.complete) await m.advance();
    expect(cloud.instances.size).toBe(4);
    const cleanup = launcher.engine.cleanup!;
    await cleanup.idle();
    await cleanup.pass();
    expect([...cloud.instances.keys()]).toContain(leak.externalId);
    await cleanup.pass();
    expect([...cloud.instances.keys()].sort()).toEqual([ours, other.externalId, untagged.externalId].sort());
  });

  it('a graceful stop hands pending requests back at once; the next launcher of the provider reaps the half-built node', async () => {
    await h.startLauncher('a', fakeConfig({ provider: '    boot-ms: 60000\n' }));
    const sub = await h.zuul.submit({ labels: ['small'] });
    await waitUntil('pending with a building node', async () =>
      (await h.zk.getNodeRequest(sub.id))?.state === 'pending' && (await h.nodes((n) => n.state === 'building')).length === 1);
    const [building] = await h.nodes((n) => n.state === 'building');
    await h.stopLaunchers();
    const back = await h.zk.getNodeRequest(sub.id);
    expect(back).toMatchObject({ state: 'requested', nodes: [], declined_by: [] });
    expect(await h.zk.isNodeLocked(building.id as string)).toBe(false);
    // The same provider, restarted: it deletes the orphan and serves the request.
    await h.startLauncher('a2', fakeConfig());
    expect((await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000)).state).toBe('fulfilled');
    await waitUntil('the orphan building node deleted', async () => !(await h.zk.getNode(building.id as string)));
  });
});

describe('min-ready and label availability', () => {
  it('asks for no node of a label whose image is not available (Nodepool skips it), and tops up the others', async () => {
    await h.startLauncher('a', fakeConfig({
      top: '  - name: noimage\n    min-ready: 2\n',
      labels: '          - name: small\n          - name: noimage\n            image-ready: false\n',
    }).replace('  - name: small\n', '  - name: small\n    min-ready: 1\n'), { mainLoopIntervalMs: 100 });
    await waitUntil('a ready small node', async () => (await h.nodes((n) => n.state === 'ready' && n.type[0] === 'small')).length === 1);
    // Twenty main-loop passes: Nodepool-like behaviour is no request at all for `noimage`.
    await sleep(2000);
    const requests = await h.zk.getNodeRequests();
    expect(requests.filter((r) => r.node_types.includes('noimage'))).toEqual([]);
    const lockDirs = await h.client.getChildren('/nodepool/requests-lock').catch(() => [] as string[]);
    // One lock dir per small request at most (the fulfilled one), none for `noimage`.
    expect(lockDirs.length).toBeLessThanOrEqual(1);
    expect(await h.nodes((n) => n.type[0] === 'noimage')).toEqual([]);
  });
});

describe('deleting at scale', () => {
  it('runs the cloud deletes of nodes returned together side by side, not a few at a time', async () => {
    const launcher = await h.startLauncher('a', fakeConfig({ provider: '    delete-ms: 1500\n' }));
    const cloud = fakeProvider(launcher, 'fake-a').cloud;
    const sets = await Promise.all(Array.from({ length: 12 }, async () => {
      const sub = await h.zuul.submit({ labels: ['small'] });
      return h.zuul.accept(await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 30000));
    }));
    expect(cloud.instances.size).toBe(12);
    // A gate reset: every job returns its node at once.
    await Promise.all(sets.map((set) => h.zuul.release(set)));
    let most = 0;
    await waitUntil('every instance deleted', async () => {
      most = Math.max(most, [...cloud.instances.values()].filter((i) => i.status === 'deleting').length);
      return cloud.instances.size === 0;
    }, 30000);
    // Before, at most 8 ran at once (one pass, each delete awaited); Nodepool runs them all.
    expect(most).toBe(12);
  });
});
