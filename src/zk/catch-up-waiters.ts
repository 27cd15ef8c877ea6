/** Callers of `ZnodeCache.caughtUp` and the children whose reads they wait for. */
export class CatchUpWaiters {
  private readonly waiters = new Set<{ ids: Set<string>; done: () => void }>();

  /** Resolves once the read of each of `ids` (reads in flight, at least one) has ended. */
  wait(ids: Iterable<string>): Promise<void> {
    return new Promise<void>((done) => this.waiters.add({ ids: new Set(ids), done }));
  }

  /** The read of `id` has ended (re-reads included). */
  readDone(id: string): void {
    for (const waiter of this.waiters) {
      waiter.ids.delete(id);
      if (waiter.ids.size > 0) continue;
      this.waiters.delete(waiter);
      waiter.done();
    }
  }
}
