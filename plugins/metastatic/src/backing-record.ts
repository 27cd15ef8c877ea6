/**
 * The in-memory record of one backing node (spec drivers-config §3.2, Nodepool's
 * `BackingNodeRecord`), and the slot layout computed from the occupants found in ZooKeeper.
 */
import type { Node } from '@nodepool-ts/sdk';

/** One backing node, or a backing request still waiting for its node. */
export class BackingRecord {
  /** Backing node id; null while the backing request is pending. */
  backingNodeId: string | null = null;
  /** Id of the backing request while pending. */
  requestId: string | null = null;
  /** Retired: no new slots; released as soon as it is empty (nodescan failure, max-age). */
  failed = false;
  /** The backing request failed or vanished; waiters learn it on their next poll. */
  requestLost: 'failed' | 'vanished' | null = null;
  /** Epoch seconds when the backing node was claimed (persisted as `launched`). */
  launched: number;
  /** Epoch seconds of the last time a slot was freed, or when the record was created. */
  lastUsed: number;
  /** Seen occupied at the last release check (so grace-time counts from when it emptied). */
  busySeen = false;
  /** Ids of our nodes waiting for this record's backing request (pending records only). */
  readonly waiters = new Set<string>();
  /**
   * The backing node as last verified ours (read, lock holder checked) and the path of our lock
   * contender: an instant launch's transaction checks both instead of reading them again, and a
   * failed check clears this, so the next reservation verifies again (slot-batch.ts).
   */
  verified: { node: Node; contender: string } | undefined;

  constructor(
    /** Metastatic label name the record serves. */
    readonly label: string,
    /** `max-parallel-jobs`. */
    readonly slots: number,
    now: number,
  ) {
    this.launched = now;
    this.lastUsed = now;
  }

  /** A record whose backing node we hold (not a pending request). */
  get live(): boolean {
    return this.backingNodeId !== null;
  }

  /** A copy of the persisted-equivalent fields, for logs and recovery checks. */
  snapshot(): { backingNodeId: string | null; label: string; slots: number; failed: boolean; launched: number } {
    return { backingNodeId: this.backingNodeId, label: this.label, slots: this.slots, failed: this.failed, launched: this.launched };
  }
}

/** Where the occupants of one backing node sit, as laid out by {@link layoutSlots}. */
export interface SlotLayout {
  /** Node id → slot index, for every occupant that has a slot. */
  assigned: Map<string, number>;
  /** Occupants beyond the slot count (a double-booking we inherited): they keep it busy. */
  overflow: string[];
  /** Slots nobody occupies, ascending. */
  free: number[];
  /** Occupants whose claimed slot was taken by an earlier claimant or out of range. */
  moved: string[];
}

/**
 * Lays out the occupants of a backing node (spec §3.8 item 3): the first claimant of a slot
 * (lowest node id, i.e. created first) keeps it; a later claimant of the same slot (or of a slot
 * out of range) is put into the lowest free slot if any, else counted as overflow, so the backing
 * node never looks empty or under-used while any of them exists.
 */
export function layoutSlots(slots: number, occupants: ReadonlyArray<{ nodeId: string; slot: number | null }>): SlotLayout {
  const sorted = [...occupants].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  const taken = new Map<number, string>();
  const assigned = new Map<string, number>();
  const displaced: string[] = [];
  for (const o of sorted) {
    if (o.slot !== null && o.slot >= 0 && o.slot < slots && !taken.has(o.slot)) {
      taken.set(o.slot, o.nodeId);
      assigned.set(o.nodeId, o.slot);
    } else {
      displaced.push(o.nodeId);
    }
  }
  const free: number[] = [];
  for (let i = 0; i < slots; i++) if (!taken.has(i)) free.push(i);
  const overflow: string[] = [];
  for (const nodeId of displaced) {
    const slot = free.shift();
    if (slot === undefined) overflow.push(nodeId);
    else assigned.set(nodeId, slot);
  }
  return { assigned, overflow, free, moved: displaced };
}
