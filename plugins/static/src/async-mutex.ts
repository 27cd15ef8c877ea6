/**
 * A minimal promise-based mutex. The static provider's periodic sync and its node-deleted
 * handler both rebuild the slot map and register records; running them one at a time is what
 * keeps a host from getting two records for one slot (Nodepool bcfc44b4a).
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
