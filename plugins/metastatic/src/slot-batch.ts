/**
 * The instant launches of one pool pass (`MetastaticProvider.beginInstantLaunches`): free slots
 * on backing nodes we hold, handed out while the allocator's mutex and the ZooKeeper allocation
 * lock are held (so no launcher of ours allocates or releases meanwhile), from occupants counted
 * once, from the cache, when the batch opened. Each reservation's transaction checks that our
 * allocation lock contender still exists, that the backing node is unchanged since it was
 * verified ours and that our lock contender on it still exists, so a backing node deleted, released or retired meanwhile (spec §3.8 item 1) is never
 * handed out: the check fails, nothing is written, and the record is verified again (and pruned
 * when it is gone) before it is offered once more.
 *
 * A request that finds no slot, free or about to be, goes to the launch handler; the shortage
 * itself requests backing capacity (backing-demand.ts).
 */
import type { InstantLaunchBatch, InstantReservation, Logger, Node, PoolConfig, ZnodeCheck, ZooKeeperLock } from '@nodepool-ts/sdk';
import { layoutSlots, type BackingRecord } from './backing-record';
import type { BackingLookup, SlotOccupant } from './backing-record-repository';
import { instanceOn } from './instance-on';

/** What a batch needs of the allocator (whose mutex it runs under). */
export interface SlotBatchHost {
  /** The allocator's records (pruning removes from it). */
  readonly records: readonly BackingRecord[];
  /** Past `max-age`: no new slots. */
  expired(record: BackingRecord): boolean;
  /** Drops a record whose backing node is not ours any more. */
  prune(record: BackingRecord, why: string): void;
  /** Reads the backing node and its lock holder (BackingRecordRepository.get). */
  verify(backingNodeId: string): Promise<BackingLookup>;
  /** The znode path of a node. */
  nodePath(nodeId: string): string;
  /** Remembers (or forgets, slot undefined) where a node of ours sits. */
  allocated(nodeId: string, record: BackingRecord, slot: number | undefined): void;
  /** A transaction's check on our allocation lock contender failed. */
  lockFailed(): void;
  /**
   * `shortages` requests of `label` found no slot in this batch so far: files a backing request
   * unless the pending ones have room for them (allocator's mutex held).
   */
  shortOf(label: string, shortages: number): Promise<void>;
  readonly log: Logger;
}

/** What opening a batch needs of the allocator besides {@link SlotBatchHost}. */
export interface SlotBatchOpener extends SlotBatchHost {
  /** Runs `fn` under the allocator's mutex. */
  exclusive(fn: () => Promise<void>): Promise<void>;
  /** Recovers the records first if that was not done yet (mutex held). */
  recovered(): Promise<void>;
  /** Claims the backing nodes of fulfilled requests no launch waits on (mutex held). */
  settlePending(): Promise<void>;
  /** Runs `fn` holding the ZooKeeper allocation lock (throws when it cannot be had). */
  withAllocationLock(fn: (lock: ZooKeeperLock) => Promise<void>): Promise<void>;
  /** Slot occupants from the node cache. */
  occupants(): Promise<Map<string, SlotOccupant[]>>;
  /** The allocation lock if we hold it now (kept between batches: allocation-lease.ts). */
  heldLock(): ZooKeeperLock | undefined;
}

/**
 * Opens a batch: the allocator's mutex and the ZooKeeper allocation lock are held until the
 * batch ends, and occupants are counted once, under the lock. When no usable backing node of an
 * eligible label has a free slot, neither is held: the batch only answers 'later' or files
 * backing requests for its shortages.
 */
export async function openSlotBatch(opener: SlotBatchOpener, pool: PoolConfig, eligible: (label: string) => boolean): Promise<SlotBatch | undefined> {
  let opened!: (batch: SlotBatch | undefined) => void;
  let failed!: (err: unknown) => void;
  const ready = new Promise<SlotBatch | undefined>((resolve, reject) => {
    opened = resolve;
    failed = reject;
  });
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const run: Promise<void> = opener.exclusive(async () => {
    try {
      await opener.recovered();
      await opener.settlePending();
      const kept = opener.heldLock();
      const seen = await opener.occupants();
      if (!SlotBatch.anyFree(opener, seen, eligible)) {
        // Nothing free: 'later' answers and backing requests only, neither needing the lock; the
        // mutex is not held by this batch, so a shortage takes it.
        const host: SlotBatchHost = { ...opener, shortOf: (label, n) => opener.exclusive(() => opener.shortOf(label, n)) };
        return opened(new SlotBatch(host, pool, seen, eligible, undefined, async () => undefined));
      }
      await opener.withAllocationLock(async (lock) => {
        // Checked by each transaction: a lock lost with the session lets another launcher in.
        const held: ZnodeCheck = { path: `${lock.path}/${lock.node as string}`, version: -1 };
        // Recounted under the lock (another launcher may have claimed slots meanwhile) unless it
        // was ours all along, as when it is kept between batches.
        const occupants = lock === kept ? seen : await opener.occupants();
        opened(new SlotBatch(opener, pool, occupants, eligible, held, async () => {
          ended();
          await run;
        }));
        await end;
      });
    } catch (err) {
      failed(err);
    }
  });
  return ready;
}

/** See the module comment. */
export class SlotBatch implements InstantLaunchBatch {
  /** `<backing node>#<slot>` handed out by this batch and not given back. */
  private readonly reserved = new Set<string>();
  /**
   * Per label, slots about to be free (their nodes are being deleted) not yet promised: that
   * many requests are told to wait for them rather than launch (and request a backing node).
   */
  private readonly later = new Map<string, number>();
  /** Per label, requests of this batch that found no slot. */
  private readonly short = new Map<string, number>();
  private ended = false;

  constructor(
    private readonly host: SlotBatchHost,
    private readonly pool: PoolConfig,
    private readonly occupants: ReadonlyMap<string, SlotOccupant[]>,
    private readonly eligible: (label: string) => boolean,
    /** Our allocation lock contender; undefined: not held, the batch only answers 'later'. */
    private readonly held: ZnodeCheck | undefined,
    private readonly close: () => Promise<void>,
  ) {
    for (const r of host.records) {
      if (!r.live || r.failed || !eligible(r.label) || host.expired(r)) continue;
      const leaving = (occupants.get(r.backingNodeId as string) ?? []).filter((o) => o.leaving).length;
      this.later.set(r.label, (this.later.get(r.label) ?? 0) + leaving);
    }
  }

  /** Whether some usable backing node of an eligible label has a free slot (no reads). */
  static anyFree(host: Pick<SlotBatchHost, 'records' | 'expired'>, occupants: ReadonlyMap<string, SlotOccupant[]>, eligible: (label: string) => boolean): boolean {
    return host.records.some((r) => r.live && !r.failed && eligible(r.label) && !host.expired(r)
      && layoutSlots(r.slots, occupants.get(r.backingNodeId as string) ?? []).free.length > 0);
  }

  async reserve(label: string): Promise<InstantReservation | 'later' | undefined> {
    if (this.ended || !this.eligible(label)) return undefined;
    const got = this.held ? await this.freeSlot(label) : undefined;
    if (got) return got;
    const later = this.later.get(label) ?? 0;
    if (later > 0) {
      this.later.set(label, later - 1);
      return 'later';
    }
    const short = (this.short.get(label) ?? 0) + 1;
    this.short.set(label, short);
    await this.host.shortOf(label, short);
    return undefined;
  }

  private async freeSlot(label: string): Promise<InstantReservation | undefined> {
    for (const record of [...this.host.records]) {
      if (!record.live || record.failed || record.label !== label) continue;
      if (this.host.expired(record)) {
        record.failed = true; // max-age: no new slots; released once empty
        continue;
      }
      const id = record.backingNodeId as string;
      const slot = layoutSlots(record.slots, this.occupants.get(id) ?? []).free.find((s) => !this.reserved.has(`${id}#${s}`));
      if (slot === undefined) continue;
      if (!record.verified) {
        const found = await this.host.verify(id);
        if (found.missing) {
          this.host.prune(record, found.detail);
          continue;
        }
        if (found.data?.failed) {
          record.failed = true; // retired by another launcher's nodescan failure
          continue;
        }
        record.verified = { node: found.node, contender: found.contender };
      }
      return this.reservation(record, slot);
    }
    return undefined;
  }

  async end(): Promise<void> {
    this.ended = true;
    await this.close();
  }

  private reservation(record: BackingRecord, slot: number): InstantReservation {
    const id = record.backingNodeId as string;
    const key = `${id}#${slot}`;
    const verified = record.verified as { node: Node; contender: string };
    this.reserved.add(key);
    let nodeId: string | undefined;
    return {
      checks: [this.held as ZnodeCheck, { path: this.host.nodePath(id), version: verified.node.version }, { path: verified.contender, version: -1 }],
      instance: (req) => {
        nodeId = req.nodeId;
        this.host.allocated(req.nodeId, record, slot);
        this.host.log.info('allocated slot', { node: req.nodeId, backing_node: id, slot, instant: true });
        return instanceOn(verified.node, { nodeId: req.nodeId, label: req.label, metadata: req.metadata }, slot, this.pool);
      },
      release: (failedCheck) => {
        this.reserved.delete(key);
        if (nodeId) this.host.allocated(nodeId, record, undefined);
        // Verified again (and pruned if gone) before it is offered once more.
        if (failedCheck) record.verified = undefined;
        if (failedCheck === this.held?.path) this.host.lockFailed();
      },
    };
  }
}
