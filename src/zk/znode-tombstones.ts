/** Helpers of ZnodeCache (src/zk/znode-cache.ts) for the life of its entries. */

/** How long a deleted child's late read answers are dropped, ms. */
const TOMBSTONE_MS = 5000;

/**
 * Children of a cached root seen deleted in the last {@link TOMBSTONE_MS}, by id. The client
 * hands a read's answer to a promise (resolved a tick later) but an event that came right after
 * it in the same packet to the listener at once: the answer of a read made just before a delete
 * (ours, or any caller's `noteWrite`) would put the record back after its removal, kept for good
 * (seen beside a Python launcher, whose delete is `deleted` + remove at once). Children are
 * server sequences, so a late answer for a deleted id is simply dropped; an id counts as new
 * again once it is seen created or listed (a parent deleted and made again restarts its sequence).
 */
export class Tombstones {
  private readonly buried = new Map<string, number>();

  has(id: string): boolean {
    return this.buried.has(id);
  }

  /** `id` is a new child again. */
  delete(id: string): void {
    this.buried.delete(id);
  }

  /** Remembers a deleted id for {@link TOMBSTONE_MS}. */
  bury(id: string): void {
    const now = Date.now();
    this.buried.delete(id);
    this.buried.set(id, now);
    // Oldest first (insertion order): drop the expired ones from the front.
    for (const [old, at] of this.buried) {
      if (now - at < TOMBSTONE_MS) break;
      this.buried.delete(old);
    }
  }
}

/**
 * `data` in a buffer of its own. Our writes hand in `Buffer.from(json)`, a slice of an 8 KB
 * pool slab shared with whatever else was allocated meanwhile; kept for the life of the entry,
 * such slices held ~2 KB of slab per cached node (20 MB at 10 000 nodes) instead of its ~800 bytes.
 */
export function compact(data: Buffer): Buffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data;
  return Buffer.from(Uint8Array.prototype.slice.call(data).buffer);
}
