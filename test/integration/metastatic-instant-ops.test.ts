/**
 * Issue 17, metastatic at static speed: once backing nodes are held, a request is fulfilled by
 * an instant launch (nodes created and the request fulfilled in one version-checked transaction,
 * under one allocation lock per pass) and a returned node is deleted in one transaction. Counts
 * the metastatic launcher's ZooKeeper operations over whole job cycles (fulfil, use, return,
 * delete); the generic launch and locked delete cost ~40 per request. Then a held backing node
 * vanishes behind our back (the seed bug): the instant transaction's check refuses it.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';
import { EngineHarness, waitUntil } from '../support/engine-harness';

jest.setTimeout(60_000);
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const BACKING =
  'labels:\n  - name: backing\nproviders:\n  - name: static-backing\n    driver: static\n    pools:\n      - name: main\n        nodes:\n' +
  ['127.0.0.1', '127.0.0.2'].map((host) => `          - name: ${host}\n            labels: [backing]\n            host-key-checking: false\n`).join('');
const META =
  'labels:\n  - name: user-label\nproviders:\n  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n' +
  '          - name: user-label\n            backing-label: backing\n            max-parallel-jobs: 4\n            grace-time: 60\n';

const clientOf = (l: Launcher): ZkClient => l.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;

function operations(l: Launcher): number {
  return Object.values(clientOf(l).operationCounts).reduce((a, b) => a + b, 0);
}

/**
 * Committed transactions from now on: fulfilments by instant launch (checking the allocation
 * lock, writing a request) and one-transaction deletes (`deleted` and removal of one node).
 */
function transactions(l: Launcher): { instant: number; deletes: number } {
  const client = clientOf(l);
  const seen = { instant: 0, deletes: 0 };
  const multi = client.multi.bind(client);
  client.multi = async (ops) => {
    const result = await multi(ops);
    if (ops.some((o) => o.op === 'check' && o.path.includes('/allocation-lock/')) && ops.some((o) => o.op === 'set' && o.path.startsWith('/nodepool/requests/'))) seen.instant++;
    if (ops[0]?.op === 'set' && ops.some((o) => o.op === 'delete' && o.path === ops[0].path)) seen.deletes++;
    return result;
  };
  return seen;
}

/** `jobs` job cycles, `parallel` at a time; returns the (backing node, slot) pairs seen in use twice at once. */
async function runJobs(jobs: number, parallel: number): Promise<number> {
  const inUse = new Set<string>();
  let doubleBooked = 0;
  let left = jobs;
  const worker = async (): Promise<void> => {
    while (left-- > 0) {
      const sub = await h.zuul.submit({ labels: ['user-label'] });
      const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 30_000);
      expect(req.state).toBe('fulfilled');
      const set = await h.zuul.accept(req);
      const slots = set.nodes.map((n) => `${(n.driver_data as { backing_node: string }).backing_node}#${n.slot}`);
      for (const s of slots) if (inUse.has(s)) doubleBooked++; else inUse.add(s);
      await h.zuul.release(set);
      for (const s of slots) inUse.delete(s);
    }
  };
  await Promise.all(Array.from({ length: parallel }, () => worker()));
  return doubleBooked;
}

it('fulfils from held backing nodes in a few operations per request, each slot to one job at a time, never on a vanished one', async () => {
  await h.startLauncher('backing', BACKING);
  await waitUntil('backing nodes ready', async () => (await h.nodes((n) => n.state === 'ready' && n.provider === 'static-backing')).length === 2);
  const meta = await h.startLauncher('meta', META);
  // Warm-up: backing nodes acquired through backing requests (the launch handler).
  expect(await runJobs(8, 8)).toBe(0);
  await waitUntil('warm-up nodes deleted', async () => (await h.nodes((n) => n.provider === 'meta')).length === 0);

  const heldBackingNodes = async (): Promise<string[]> =>
    (await h.nodes((n) => n.provider === 'static-backing' && n.state === 'in-use')).map((n) => n.id as string).sort();
  const warm = await heldBackingNodes();
  expect(warm.length).toBeGreaterThan(0);
  const before = operations(meta);
  const committed = transactions(meta);
  const jobs = 24;
  expect(await runJobs(jobs, 4)).toBe(0);
  await waitUntil('returned nodes deleted', async () => (await h.nodes((n) => n.provider === 'meta')).length === 0);
  const perRequest = (operations(meta) - before) / jobs;
  // Every request by one transaction, every returned node deleted by one, all but a race or two:
  // a pass may meet a node whose cached copy predates the end of its launch, its transaction
  // fails on the version and the node goes the locked way (seen once in CI: 23 deletes of 24).
  // Without the instant path or the one-transaction delete these are 0.
  expect(committed.instant).toBeGreaterThanOrEqual(jobs - 2);
  expect(committed.instant).toBeLessThanOrEqual(jobs);
  expect(committed.deletes).toBeGreaterThanOrEqual(jobs - 2);
  expect(committed.deletes).toBeLessThanOrEqual(jobs);
  // Fulfilment: create + one transaction; the request, `in-use` and `used` read by the cache;
  // the delete's transaction; the lock check when Zuul deletes the request; the allocation lock
  // (three operations) at most once per pass, and less often since allocation-lease.ts keeps it
  // between passes that follow within 50 ms: 9.8-10.3 measured on an idle machine before the lease,
  // up to 15 under load (retries of deletes and lock checks while Zuul still holds a node).
  // The launch handler and the locked delete cost 22 with a one-transaction delete, 40 without.
  expect(perRequest).toBeLessThanOrEqual(18);
  // Still on the backing nodes it held. Four jobs on four slots run at capacity: a request that
  // comes while a returned node still holds its slot is a shortage, which files a backing request
  // at once (backing-demand.ts; Nodepool's launch path does the same), so one more may be held
  // (released after its grace-time when unused). None is given up while in use.
  const held = await heldBackingNodes();
  expect(held).toEqual(expect.arrayContaining(warm));
  expect(held.length).toBeLessThanOrEqual(warm.length + 1);

  // The seed bug: a backing node vanishes behind our back. The transaction's check fails,
  // nothing is handed out on it, its record is pruned, and every job is still served.
  const gone = warm[0];
  await h.client.deleteRecursive(`/nodepool/nodes/${gone}`);
  const placed: string[] = [];
  const accept = h.zuul.accept.bind(h.zuul);
  jest.spyOn(h.zuul, 'accept').mockImplementation(async (req, options) => {
    const set = await accept(req, options);
    placed.push(...set.nodes.map((n) => (n.driver_data as { backing_node: string }).backing_node));
    return set;
  });
  expect(await runJobs(8, 4)).toBe(0);
  expect(placed).toHaveLength(8);
  // Its record, verified before, is offered at once (the cleanup prunes it within 0.5 s): without
  // the transaction's backing checks all eight landed on it.
  expect(placed).not.toContain(gone);
});
