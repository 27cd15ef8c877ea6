/**
 * Issue 17, metastatic throughput, on a real ZooKeeper: the allocation lock is kept between slot
 * batches that follow each other closely and handed to another launcher as soon as it asks
 * (allocation-lease.ts); a batch that finds no slot requests a backing node at once, and a later
 * batch claims it although no launch waits on it (backing-demand.ts).
 */
import type { InstantReservation } from '../../src/plugins/instant-launch';
import { metastaticTestFile, META, OWNER, TestClock, metastaticConfig, waitUntil, type MetaLauncher } from '../support/metastatic-harness';

jest.setTimeout(60000);

const h = metastaticTestFile();

const LABEL = (slots: number): string => `      - name: user-label\n        backing-label: backing\n        max-parallel-jobs: ${slots}\n`;
const LOCK_DIR = `/nodepool/metastatic/${META}/allocation-lock`;

/** One pool pass's batch asking for one instance (given back unused). */
async function reserveOnce(meta: MetaLauncher): Promise<InstantReservation | 'later' | undefined> {
  const batch = await meta.provider.beginInstantLaunches(meta.provider.config.pools[0]);
  if (!batch) return undefined;
  try {
    const got = await batch.reserve('user-label');
    if (got && got !== 'later') got.release();
    return got;
  } finally {
    await batch.end();
  }
}

it('a batch that finds no slot requests a backing node at once, which a later batch claims with no launch waiting on it', async () => {
  const a = await h.startMeta(metastaticConfig(LABEL(2)), new TestClock());
  const backingRequests = async (): Promise<number> => (await h.zk.getNodeRequests()).filter((r) => r.requestor === OWNER).length;
  expect(await reserveOnce(a)).toBeUndefined();
  expect(await backingRequests()).toBe(1);
  // The next shortage fits the pending request's two slots: nothing more is requested.
  expect(await reserveOnce(a)).toBeUndefined();
  expect(await backingRequests()).toBe(1);

  await h.startStatic(['127.0.0.1']);
  await waitUntil('a slot on the backing node claimed by a batch', async () => typeof (await reserveOnce(a)) === 'object');
  const [record] = a.provider.allocator.describe();
  expect(record).toMatchObject({ label: 'user-label', slots: 2, failed: false, requestId: null, waiters: [] });
  expect(await h.backing(record.backingNodeId as string)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
  expect(await backingRequests()).toBe(0);
});

it('keeps the allocation lock between batches and hands it to another launcher as soon as that asks', async () => {
  await h.startStatic(['127.0.0.1']);
  const config = metastaticConfig(LABEL(4));
  // A keeps the lock for a minute after each use: only the contention watch gives it up in time.
  const a = await h.startMeta(config, new TestClock(), true, { leaseLingerMs: 60_000 });
  await h.launch(a, 'user-label'); // claims the backing node (first use of the lock)
  expect(typeof (await reserveOnce(a))).toBe('object');
  expect(typeof (await reserveOnce(a))).toBe('object');
  expect(await h.client.getChildren(LOCK_DIR)).toHaveLength(1); // still ours between batches

  const b = await h.startMeta(config, new TestClock()); // adopts the backing node (same owner id)
  const asked = Date.now();
  expect(typeof (await reserveOnce(b))).toBe('object');
  expect(Date.now() - asked).toBeLessThan(2000);
});
