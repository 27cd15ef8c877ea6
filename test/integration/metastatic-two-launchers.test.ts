/**
 * Two launchers running one metastatic provider on one ZooKeeper (spec drivers-config §3.8, the
 * rolling-restart situation), at provider level: each "launcher" is a MetastaticProvider on its
 * own ZooKeeper session with its own clock. Also start-up recovery (idempotent, tolerant of
 * double-booked slots) and that a waiting node takes a slot freed elsewhere.
 */
import { metastaticTestFile, META, OWNER, TestClock, metastaticConfig, waitUntil } from '../support/metastatic-harness';
import { Node } from '../../src/zk/models/node';

jest.setTimeout(60000);

const h = metastaticTestFile();

const LABEL = (opts: string): string => `      - name: user-label\n        backing-label: backing\n${opts}`;
const backingOf = (n: Node): string => (n.driver_data as { backing_node: string }).backing_node;

/** Every (backing node, slot) is held by at most one node, and no backing node exceeds `slots`. */
async function expectNoDoubleBooking(slots: number): Promise<void> {
  const placed = (await h.placements()).filter((p) => p.backing !== null);
  const keys = placed.map((p) => `${p.backing}/${p.slot}`);
  expect(new Set(keys).size).toBe(keys.length);
  const perBacking = new Map<string, number>();
  for (const p of placed) perBacking.set(p.backing as string, (perBacking.get(p.backing as string) ?? 0) + 1);
  for (const count of perBacking.values()) expect(count).toBeLessThanOrEqual(slots);
  for (const p of placed) expect(p.slot).toBeLessThan(slots);
}

describe('metastatic: two launchers, one provider', () => {
  it('seed scenario: A releases X after max-age; B with a stale record for X allocates on a new backing node without failing', async () => {
    const config = metastaticConfig(LABEL('        max-parallel-jobs: 2\n        grace-time: 60\n        max-age: 100\n'));
    const clockA = new TestClock();
    const clockB = new TestClock(); // B's own view of time: for B, X is not past max-age
    const a = await h.startMeta(config, clockA);
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = backingOf(n1);

    const b = await h.startMeta(config, clockB); // B starts (rolling restart) and recovers X
    expect(b.provider.allocator.describe()).toEqual(a.provider.allocator.describe());

    // A: max-age passes, the job ends, A drains and releases X; the static launcher reaps it.
    clockA.advance(101);
    await h.remove(a, n1);
    await a.provider.cleanup();
    expect((await h.backing(x))?.state ?? 'gone').not.toBe('in-use');
    expect(b.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([x]); // stale in B

    const { node: n2, result } = await h.launch(b, 'user-label');
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
    const y = backingOf(n2);
    expect(y).not.toBe(x);
    expect(await h.backing(y)).toMatchObject({ state: 'in-use', contenders: [OWNER], persistent: true });
    expect(b.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([y]); // stale record gone
    expect(b.logger.lines.some((l) => l.msg === 'pruning stale backing node record' && l.fields.backing_node === x)).toBe(true);
    await expectNoDoubleBooking(2);
    await waitUntil('X reaped by the static launcher', async () => !(await h.client.exists(`/nodepool/nodes/${x}`)));
    // Looking at a vanished backing node must not re-create it as an empty znode (kazoo's
    // contenders() would, zk-protocol §3.3).
    await b.provider.cleanup();
    await a.provider.cleanup();
    expect(await h.client.exists(`/nodepool/nodes/${x}`)).toBeNull();
  });

  it('launchers allocating at the same time never give one slot to two nodes', async () => {
    const config = metastaticConfig(LABEL('        max-parallel-jobs: 3\n'));
    const clock = new TestClock();
    const a = await h.startMeta(config, clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
    const { node: n0 } = await h.launch(a, 'user-label');
    const x = backingOf(n0);
    const b = await h.startMeta(config, clock);
    const launches = await Promise.all([
      h.launch(a, 'user-label'), h.launch(b, 'user-label'), h.launch(a, 'user-label'), h.launch(b, 'user-label'),
    ]);
    for (const { result } of launches) expect(result).toMatchObject({ state: 'ready', attempts: 1 });
    await expectNoDoubleBooking(3);
    expect((await h.placements()).filter((p) => p.backing === x)).toHaveLength(3);
  });

  it('a launcher never releases a backing node that backs another launcher\'s node (occupants recounted from ZooKeeper)', async () => {
    const config = metastaticConfig(LABEL('        max-parallel-jobs: 2\n        grace-time: 1\n'));
    const clock = new TestClock();
    const b = await h.startMeta(config, clock); // B starts first: X is claimed later by A
    const a = await h.startMeta(config, clock);
    await h.startStatic(['127.0.0.1']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = backingOf(n1);

    clock.advance(1000);
    await b.provider.cleanup(); // adopts X (ours, by lock and user_data) but sees n1 on it
    expect(b.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([x]);
    expect(await h.backing(x)).toMatchObject({ state: 'in-use', contenders: [OWNER] });

    // B can use the free slot of X it adopted.
    const { node: n2 } = await h.launch(b, 'user-label');
    expect(n2.driver_data).toMatchObject({ backing_node: x, slot: 1 });
    await h.remove(a, n1);
    clock.advance(1000);
    await a.provider.cleanup(); // A's node is gone, B's n2 is still there
    expect(await h.backing(x)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
    await h.remove(b, n2);
    await b.provider.cleanup(); // B has not seen X empty for grace-time yet
    expect(await h.backing(x)).toMatchObject({ state: 'in-use' });
    clock.advance(2);
    await b.provider.cleanup();
    expect((await h.backing(x))?.state ?? 'gone').not.toBe('in-use');
  });

  it('recovery is idempotent and equal across restarts, and tolerates a double-booked slot', async () => {
    const config = metastaticConfig(LABEL('        max-parallel-jobs: 2\n'));
    const clock = new TestClock();
    const a = await h.startMeta(config, clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    const { node: n1 } = await h.launch(a, 'user-label');
    await h.launch(a, 'user-label');
    const { node: n3 } = await h.launch(a, 'user-label');
    const x = backingOf(n1);
    const y = backingOf(n3);
    expect(y).not.toBe(x);
    const before = a.provider.allocator.describe();
    expect(before.map((r) => r.backingNodeId)).toEqual([x, y]);

    await a.provider.allocator.recover();
    await a.provider.allocator.recover();
    expect(a.provider.allocator.describe()).toEqual(before);
    const restarted = await h.startMeta(config, clock);
    await restarted.provider.allocator.recover();
    expect(restarted.provider.allocator.describe()).toEqual(before);

    // Another launcher (the reference, 3.8) double-booked X's slot 0: recovery must not abort,
    // and X (3 claimants, 2 slots) must not get another node.
    const dup = new Node();
    dup.state = 'ready';
    dup.type = ['user-label'];
    dup.provider = META;
    dup.pool = 'main';
    dup.driver_data = { metadata: {}, backing_node: x, slot: 0, node: 'dup' };
    dup.slot = 0;
    await h.zk.createNode(dup);
    const c = await h.startMeta(config, clock);
    expect(c.provider.allocator.describe()).toEqual(before);
    expect(c.logger.lines.some((l) => l.msg === 'backing node has conflicting slot claims')).toBe(true);
    const { node: n4, result } = await h.launch(c, 'user-label');
    expect(result.state).toBe('ready');
    expect(n4.driver_data).toMatchObject({ backing_node: y, slot: 1 });
  });

  it('a node waiting for a new backing node takes a slot that frees up on another backing node first', async () => {
    const config = metastaticConfig(LABEL('        max-parallel-jobs: 1\n'), 'launch-timeout: 20\n');
    const clock = new TestClock();
    const a = await h.startMeta(config, clock);
    await h.startStatic(['127.0.0.1']); // one host: the second backing request cannot be served
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = backingOf(n1);
    const waiting = h.launch(a, 'user-label');
    await waitUntil('a second backing request', async () => (await h.zk.getNodeRequests()).length === 1);
    await h.remove(a, n1);
    const { node: n2, result } = await waiting;
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
    expect(n2.driver_data).toMatchObject({ backing_node: x, slot: 0 });
  });
});
