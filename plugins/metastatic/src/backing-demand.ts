/**
 * Backing capacity that follows the demand seen by slot batches (slot-batch.ts). A request that
 * finds no slot, free or about to be, goes to the launch handler, whose launch takes the next
 * free slot or waits for a backing request. Under a steady load a slot has usually been freed by
 * the time that launch allocates, so no backing request would ever be filed and every request
 * beyond the capacity the warm-up left would keep taking the slow launch path. The shortage
 * itself therefore files the backing request, and the backing node is claimed once its request is
 * fulfilled even if no launch waits on it any more (when a batch opens or a waiting launch
 * polls). An unused backing node is released after its `grace-time` as any other
 * (release-due.ts). Runs under the allocator's mutex.
 */
import type { Logger } from '@nodepool-ts/sdk';
import { BackingRecord } from './backing-record';
import type { BackingRecordRepository } from './backing-record-repository';
import type { MetastaticLabelConfig } from './metastatic-provider-schema';

/** What {@link BackingDemand} works on: the allocator's records and its claim step. */
export interface BackingDemandHost {
  /** The allocator's records (a new backing request is pushed). */
  readonly records: BackingRecord[];
  labelConfig(label: string): MetastaticLabelConfig | undefined;
  readonly repo: Pick<BackingRecordRepository, 'submitRequest'>;
  /** Epoch seconds. */
  now(): number;
  readonly log: Logger;
  /** Claims the backing node of a pending record once its request is fulfilled (drops a lost one). */
  advance(record: BackingRecord): Promise<void>;
}

/** First and longest wait between two looks at a pending request nobody waits on, ms. */
const FIRST_LOOK_MS = 25;
const LONGEST_LOOK_MS = 2000;

/** See the module comment. */
export class BackingDemand {
  /** When to look at a pending record nobody waits on again. */
  private readonly looks = new WeakMap<BackingRecord, { at: number; every: number }>();

  constructor(private readonly host: BackingDemandHost) {}

  /**
   * A batch's `shortages`-th request of `label` found no slot: one more backing request unless
   * the pending ones have room for all of them. A failure is only logged: the launch requests
   * capacity itself.
   */
  async shortOf(label: string, shortages: number): Promise<void> {
    const cfg = this.host.labelConfig(label);
    if (!cfg) return;
    const room = this.host.records
      .filter((r) => !r.live && !r.requestLost && r.label === label)
      .reduce((n, r) => n + Math.max(0, r.slots - r.waiters.size), 0);
    if (room >= shortages) return;
    try {
      const record = new BackingRecord(label, cfg['max-parallel-jobs'], this.host.now());
      record.requestId = await this.host.repo.submitRequest(cfg['backing-label']);
      this.host.records.push(record);
      this.host.log.info('requested a backing node: no free slot', { label, request: record.requestId });
    } catch (err) {
      this.host.log.warn('could not request a backing node', { label, err: (err as Error).message });
    }
  }

  /**
   * Claims the backing nodes of requests no launch waits on (filed for a shortage, or left by
   * launches that took a freed slot), each looked at with a backoff: one read per look, and a
   * backing node may take minutes to boot.
   */
  async settleUnwaited(): Promise<void> {
    const now = performance.now();
    for (const record of this.host.records.filter((r) => !r.live && !r.requestLost && r.waiters.size === 0)) {
      const look = this.looks.get(record) ?? { at: now + FIRST_LOOK_MS, every: FIRST_LOOK_MS };
      this.looks.set(record, look);
      if (now < look.at) continue;
      look.every = Math.min(look.every * 2, LONGEST_LOOK_MS);
      look.at = now + look.every;
      await this.host.advance(record).catch((err: unknown) =>
        this.host.log.warn('could not claim a backing node', { request: record.requestId, err: (err as Error).message }));
    }
  }
}
