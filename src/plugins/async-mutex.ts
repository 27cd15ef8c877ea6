/**
 * A minimal promise-based mutex for drivers: runs critical sections one at a time inside this
 * process. The static provider serialises its sync and re-registration with it (so a host never
 * gets two records for one slot, Nodepool bcfc44b4a); metastatic serialises allocation, release
 * and recovery (across processes its ZooKeeper allocation lock does the same).
 */
export class AsyncMutex {
  // Tail of the queue: each holder chains on the previous one's release.
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished; releases even when `fn` throws. */
  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => held);
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
