/**
 * The provider-wide ZooKeeper allocation lock (slot-allocator.ts), kept between uses that follow
 * each other closely. Under load a pool pass opens a slot batch every few tens of milliseconds;
 * taking and releasing the lock for each cost three operations and two round trips on every
 * request's path, and nothing gains by it while no other launcher wants the lock.
 *
 * Why keeping it is safe: while we hold it no other nodepool-ts launcher allocates or releases,
 * every use in this process runs under the allocator's mutex, and our own writes are in the node
 * cache as soon as they succeed, so occupants counted from the cache at each use are exactly as
 * current as after a fresh acquire. A lease lost with the session is taken anew (`isAcquired`),
 * and every instant transaction still checks our contender.
 *
 * When it is given up: after `lingerMs` without a use, at once when another contender is seen
 * (a children watch on the lock, armed from the first reuse on: a lease used once costs nothing
 * extra), and after `maxHoldMs` in any case, so a lost watch delays another launcher boundedly.
 * For `sharedMs` after another contender was seen, it is given up after each use, as before the
 * lease: launchers that share the lock would only pass it back and forth, and a launcher killed
 * while holding it stalls the others' allocations until its session ends.
 * Every method but the timers' runs under the allocator's mutex; the timers take it themselves.
 */
import type { Logger, ZooKeeperClient, ZooKeeperLock } from '@nodepool-ts/sdk';

/** What an {@link AllocationLease} needs. */
export interface AllocationLeaseOptions {
  /** Takes the lock (BackingRecordRepository.lockAllocation); undefined on timeout. */
  take: () => Promise<ZooKeeperLock | undefined>;
  /** For the contention watch on the lock's directory. */
  client: Pick<ZooKeeperClient, 'getChildren'>;
  /** Runs `fn` under the allocator's mutex (the timers' way in). */
  exclusive: (fn: () => Promise<void>) => Promise<void>;
  log: Logger;
  /** Kept this long after a use (default 50 ms: longer than the gap between passes under load). */
  lingerMs?: number;
  /** Given up after this long in any case (default 2000 ms). */
  maxHoldMs?: number;
  /** Not kept for this long after another contender was seen (default 10 000 ms). */
  sharedMs?: number;
  /** Monotonic clock, ms (tests inject one). */
  now?: () => number;
}

/** See the module comment. */
export class AllocationLease {
  private lock: ZooKeeperLock | undefined;
  private since = 0;
  private contended = false;
  /** When another contender was last seen (`now()`). */
  private contendedAt = -Infinity;
  private watching = false;
  private linger: NodeJS.Timeout | undefined;
  /** Bumped whenever the lease changes hands: a stale watch event does nothing. */
  private generation = 0;
  /** Bumped by every use: a linger timer that fired before the latest use does nothing. */
  private uses = 0;
  private readonly lingerMs: number;
  private readonly maxHoldMs: number;
  private readonly sharedMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AllocationLeaseOptions) {
    this.lingerMs = options.lingerMs ?? 50;
    this.maxHoldMs = options.maxHoldMs ?? 2000;
    this.sharedMs = options.sharedMs ?? 10_000;
    this.now = options.now ?? ((): number => performance.now());
  }

  /**
   * Runs `fn` holding the lock: the lease when it is still good, else a fresh acquire (throws
   * when that times out). Mutex held.
   */
  async use<T>(timeoutSec: number, fn: (lock: ZooKeeperLock) => Promise<T>): Promise<T> {
    clearTimeout(this.linger);
    this.uses++;
    let lock = this.current();
    if (lock) {
      if (!this.watching) await this.watch(lock);
      // The watch may have seen a contender queued already: this use still goes ahead (it holds
      // the lock), and the lease is given up after it.
    } else {
      await this.drop();
      lock = await this.options.take();
      if (!lock) throw new Error(`could not take the metastatic allocation lock within ${timeoutSec} s`);
      this.lock = lock;
      this.since = this.now();
      this.generation++;
    }
    try {
      return await fn(lock);
    } finally {
      await this.settle();
    }
  }

  /**
   * A transaction's check on our contender failed: the lock is not to be trusted; it is given
   * up (and taken anew) after the use in progress.
   */
  invalidate(): void {
    this.contended = true;
  }

  /** Gives the lock up now (provider stop). Mutex held. */
  async drop(): Promise<void> {
    clearTimeout(this.linger);
    const lock = this.lock;
    this.lock = undefined;
    this.contended = false;
    this.watching = false;
    this.generation++;
    if (lock) await lock.release().catch((err: unknown) => this.options.log.warn('allocation unlock failed', { err: (err as Error).message }));
  }

  /** The lock if the lease holds it and may go on using it. */
  current(): ZooKeeperLock | undefined {
    const lock = this.lock;
    if (!lock || !lock.isAcquired || this.contended || this.now() - this.since >= this.maxHoldMs) return undefined;
    return lock;
  }

  private async settle(): Promise<void> {
    if (!this.current() || this.now() - this.contendedAt < this.sharedMs) {
      await this.drop();
      return;
    }
    const uses = this.uses;
    this.linger = setTimeout(() => this.dropLater(() => uses === this.uses), this.lingerMs);
    this.linger.unref();
  }

  /** Arms the contention watch; a contender queued already counts at once. */
  private async watch(lock: ZooKeeperLock): Promise<void> {
    this.watching = true;
    const generation = this.generation;
    const children = await this.options.client
      .getChildren(lock.path, () => {
        if (generation !== this.generation) return;
        this.contended = true;
        this.contendedAt = this.now();
        this.dropLater(() => generation === this.generation);
      })
      .catch(() => undefined);
    // Unreadable: treated as contended, so the lease goes after this use (the safe side).
    if (!children || children.some((name) => name !== lock.node)) {
      this.contended = true;
      this.contendedAt = this.now();
    }
  }

  /** Drops the lease under the mutex, if `still()` then. */
  private dropLater(still: () => boolean): void {
    void this.options.exclusive(async () => {
      if (still()) await this.drop();
    }).catch((err: unknown) => this.options.log.warn('giving up the allocation lock failed', { err: (err as Error).message }));
  }
}
