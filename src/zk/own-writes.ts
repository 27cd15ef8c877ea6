/**
 * Persistent-mode bookkeeping of {@link ZnodeCache} for writes made through this process: a write
 * of ours causes an event that arrives just before its reply, and reading the child for it would
 * only fetch what we wrote. So while a write of ours to a child is in flight ({@link OwnWrites.begin}),
 * its events are counted instead of read; when the write ends, one read is still made unless the
 * count is exactly what takes the child from the version seen before the first event to the
 * version now cached (each create or data change is one event and one version step, and events
 * never coalesce).
 */

/** Called once a child's events are no longer explained by a write of ours. */
export type OwnWritesSettled = (id: string, expectedVersion: number) => void;

/** See the module comment. */
export class OwnWrites {
  private readonly writing = new Map<string, number>();
  private creating = 0;
  private readonly deferred = new Map<string, { base: number; events: number; created: boolean }>();

  /** `settled`: read the child unless `expectedVersion` is what the cache holds. */
  constructor(private readonly settled: OwnWritesSettled) {}

  /** Forgets every deferral (everything is about to be read afresh). */
  clear(): void {
    this.deferred.clear();
  }

  /** The child was deleted: nothing is left to read. */
  forget(id: string): void {
    this.deferred.delete(id);
  }

  /**
   * Counts a create or data-change event of `id` if a write of ours may be what caused it (a
   * create of ours names its child only in its reply); false when the caller must handle it.
   * `cachedVersion`: the version cached now (the base of a new deferral).
   */
  defer(id: string, created: boolean, cachedVersion: number | undefined): boolean {
    const deferred = this.deferred.get(id);
    if (!deferred && (this.writing.get(id) ?? 0) === 0 && !(created && this.creating > 0)) return false;
    const d = deferred ?? { base: cachedVersion ?? -1, events: 0, created: false };
    d.events++;
    d.created ||= created;
    this.deferred.set(id, d);
    return true;
  }

  /**
   * Announces a write of ours to child `id` (undefined: a create, whose name only its reply
   * tells). Returns the function to call when the write has ended.
   */
  begin(id?: string): () => void {
    if (id === undefined) this.creating++;
    else this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (id === undefined) {
        this.creating--;
        if (this.creating === 0) for (const other of [...this.deferred.keys()]) this.settle(other);
        return;
      }
      const left = (this.writing.get(id) ?? 1) - 1;
      if (left > 0) this.writing.set(id, left);
      else this.writing.delete(id);
      this.settle(id);
    };
  }

  /** Ends the deferral of `id`'s events once no write of ours explains them any more. */
  private settle(id: string): void {
    const d = this.deferred.get(id);
    if (!d || (this.writing.get(id) ?? 0) > 0 || (d.created && this.creating > 0)) return;
    this.deferred.delete(id);
    this.settled(id, d.base + d.events);
  }
}
