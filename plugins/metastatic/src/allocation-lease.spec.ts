import { AsyncMutex, type Logger, type ZkWatcher, type ZooKeeperLock } from '@nodepool-ts/sdk';
import { AllocationLease } from './allocation-lease';

const DIR = '/nodepool/metastatic/meta/allocation-lock';
const log = { warn: () => undefined } as unknown as Logger;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lock as the lease sees it: released by the lease, or lost with the session by the test. */
class FakeLock {
  readonly path = DIR;
  readonly identifier = 'x';
  released = false;
  lost = false;
  constructor(readonly node: string) {}
  get isAcquired(): boolean {
    return !this.released && !this.lost;
  }
  async release(): Promise<boolean> {
    this.released = true;
    return true;
  }
}

function setup(options: { lingerMs?: number; maxHoldMs?: number; others?: string[] } = {}) {
  const mutex = new AsyncMutex();
  const locks: FakeLock[] = [];
  const watchers: ZkWatcher[] = [];
  let clock = 0;
  const lease = new AllocationLease({
    take: async () => {
      locks.push(new FakeLock(`x__lock__000000000${locks.length}`));
      return locks[locks.length - 1] as unknown as ZooKeeperLock;
    },
    client: {
      getChildren: async (_path: string, watch?: ZkWatcher) => {
        if (watch) watchers.push(watch);
        return [locks[locks.length - 1].node, ...(options.others ?? [])];
      },
    },
    exclusive: (fn) => mutex.runExclusive(fn),
    log,
    lingerMs: options.lingerMs ?? 60_000,
    maxHoldMs: options.maxHoldMs ?? 60_000,
    now: () => clock,
  });
  const use = (): Promise<ZooKeeperLock> => mutex.runExclusive(() => lease.use(1, async (lock) => lock));
  return { lease, locks, watchers, use, advance: (ms: number) => (clock += ms) };
}

describe('AllocationLease', () => {
  it('keeps the lock between uses (one acquire) and arms the contention watch only when reused', async () => {
    const { locks, watchers, use } = setup();
    await use();
    expect(watchers).toHaveLength(0);
    await use();
    await use();
    expect(locks).toHaveLength(1);
    expect(locks[0].released).toBe(false);
    expect(watchers).toHaveLength(1);
  });

  it('gives the lock up after the linger time without a use', async () => {
    const { locks, use } = setup({ lingerMs: 5 });
    await use();
    await sleep(40);
    expect(locks[0].released).toBe(true);
    await use();
    expect(locks).toHaveLength(2);
  });

  it('gives the lock up at once when another contender appears, or after this use when one is queued already', async () => {
    const seen = setup();
    await seen.use();
    await seen.use();
    seen.watchers[0]({ type: 'children', path: DIR });
    await sleep(5);
    expect(seen.locks[0].released).toBe(true);

    const queued = setup({ others: ['y__lock__0000000009'] });
    await queued.use();
    await queued.use();
    expect(queued.locks[0].released).toBe(true);
    // Shared lately: not kept after the next use either.
    await queued.use();
    expect(queued.locks[1].released).toBe(true);
  });

  it('takes the lock anew after max hold, after it was lost, and after a failed check on it', async () => {
    const { lease, locks, use, advance } = setup({ maxHoldMs: 1000 });
    await use();
    advance(1000);
    await use();
    expect(locks[0].released).toBe(true);
    locks[1].lost = true;
    await use();
    expect(locks).toHaveLength(3);
    lease.invalidate();
    expect(locks[2].released).toBe(false);
    await use();
    expect(locks[2].released).toBe(true);
  });
});
