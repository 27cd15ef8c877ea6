/**
 * A minimal promise-based mutex (a copy of the static plugin's: plugins may not import each
 * other). It serialises allocation, release and recovery of one metastatic provider inside this
 * process; across processes the ZooKeeper allocation lock does the same (see slot-allocator.ts).
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
