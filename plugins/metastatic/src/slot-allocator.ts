/**
 * Slot allocation over backing nodes (spec drivers-config §3.3-3.5, §3.8): the in-memory records
 * of one metastatic provider and every decision made on them — which backing node a node goes
 * on, when to file a backing request, when a backing node is retired or released.
 *
 * Why two locks: the in-process mutex keeps this provider's own machines and cleanup from
 * interleaving (Nodepool's allocation mutex, 33e99a0ee). The ZooKeeper allocation lock
 * (`/nodepool/metastatic/<provider>/allocation-lock`) extends that to every nodepool-ts launcher
 * running the provider: slot occupancy is recounted from ZooKeeper under it and a new claim is
 * written to the node's `driver_data` before it is released, so two launchers can never give one
 * slot to two nodes, and no launcher releases a backing node that still backs a node (§3.8). It
 * is kept between uses that follow each other closely (allocation-lease.ts).
 */
import type { Logger, Node, PoolConfig, ZooKeeperClient, ZooKeeperLock } from '@nodepool-ts/sdk';
import { AsyncMutex } from '@nodepool-ts/sdk';
import { AllocationLease } from './allocation-lease';
import { BackingDemand } from './backing-demand';
import type { MetastaticDriverData } from './backing-node-data';
import { BackingRecord, layoutSlots } from './backing-record';
import type { BackingRecordRepository, SlotOccupant } from './backing-record-repository';
import type { MetastaticLabelConfig } from './metastatic-provider-schema';
import { pastMaxAge, releaseDue } from './release-due';
import type { SlotRequest } from './instance-on';
import { openSlotBatch, type SlotBatch } from './slot-batch';

export type { SlotRequest } from './instance-on';

/** The backing request failed: the launch attempt fails (and is retried), as in Nodepool. */
export class BackingNodeFailedError extends Error {
  override readonly name = 'BackingNodeFailedError';
}

/** What an allocation gave. */
export type AllocationResult =
  | { kind: 'slot'; record: BackingRecord; slot: number; backing: Node }
  | { kind: 'waiting'; record: BackingRecord };

/** Options of a {@link SlotAllocator}. */
export interface SlotAllocatorOptions {
  /** Clock in epoch seconds (tests inject one). */
  now?: () => number;
  /** Wait for the ZooKeeper allocation lock, s (default 30). */
  lockTimeoutSec?: number;
  /** How long the allocation lock is kept after a use, ms (allocation-lease.ts; default 50). */
  leaseLingerMs?: number;
}

/** See the module comment. */
export class SlotAllocator {
  /** Records in creation order (the first with a free slot is used, as in Nodepool). */
  readonly records: BackingRecord[] = [];
  // Node id → where this process put it; lets delete and nodescan failure find the record
  // without a ZooKeeper read.
  private readonly allocations = new Map<string, { record: BackingRecord; slot: number }>();
  private readonly mutex = new AsyncMutex();
  private recovered = false;
  private readonly now: () => number;
  private readonly lockTimeoutSec: number;
  private readonly lease: AllocationLease;
  /** Backing requests for batches' shortages, and their claims (backing-demand.ts). */
  private readonly demand: BackingDemand;

  constructor(
    private readonly repo: BackingRecordRepository,
    private readonly labelConfig: (label: string) => MetastaticLabelConfig | undefined,
    private readonly log: Logger,
    options: SlotAllocatorOptions = {},
    client?: Pick<ZooKeeperClient, 'getChildren'>,
  ) {
    this.now = options.now ?? ((): number => Date.now() / 1000);
    this.lockTimeoutSec = options.lockTimeoutSec ?? 30;
    this.lease = new AllocationLease({
      take: () => this.repo.lockAllocation(this.lockTimeoutSec),
      // Without a client the watch cannot be armed: that counts as contended (after each use, as
      // before the lease).
      client: client ?? { getChildren: async () => { throw new Error('no client'); } },
      exclusive: (fn) => this.mutex.runExclusive(fn),
      log,
      lingerMs: options.leaseLingerMs,
    });
    this.demand = new BackingDemand({
      records: this.records, labelConfig, repo, log, now: this.now, advance: (record) => this.advanceRequest(record),
    });
  }

  /** Start-up recovery (§3.4); idempotent, so running it again gives the same records. */
  async recover(): Promise<void> {
    await this.mutex.runExclusive(() => this.sync());
  }

  /** Waits for whatever holds the mutex and gives the allocation lock up (provider stop). */
  async idle(): Promise<void> {
    await this.mutex.runExclusive(() => this.lease.drop());
  }

  /** Allocates a slot for a node, or queues it on a (possibly new) backing request. */
  async allocate(req: SlotRequest): Promise<AllocationResult> {
    return this.mutex.runExclusive(async () => {
      await this.ensureRecovered();
      return this.allocateLocked(req);
    });
  }

  /**
   * Polls a waiting node: claims the backing node once its request is fulfilled, and meanwhile
   * takes a slot freed on any other backing node first, so a node is never held hostage by a slow
   * backing request.
   */
  async poll(req: SlotRequest): Promise<AllocationResult> {
    return this.mutex.runExclusive(async () => {
      await this.ensureRecovered();
      // A backing node that went to a request nobody waits on (a batch's shortage) is claimed
      // here too, so that this node can take one of its slots: with no batch to claim it, it would
      // wait for the release pass.
      await this.demand.settleUnwaited();
      const record = this.records.find((r) => r.waiters.has(req.nodeId));
      if (!record) return this.allocateLocked(req);
      if (!record.live && !record.requestLost) await this.advanceRequest(record);
      if (record.requestLost) {
        this.leaveRecord(record, req.nodeId);
        if (record.requestLost === 'failed') throw new BackingNodeFailedError(`Backing node failed (label ${record.label})`);
        // A vanished request (its launcher's session ended) is not the node's fault: start over.
        return this.allocateLocked(req);
      }
      if (record.live) {
        record.waiters.delete(req.nodeId);
        return this.allocateLocked(req);
      }
      const got = await this.takeFreeSlot(req);
      if (got) {
        record.waiters.delete(req.nodeId);
        return got;
      }
      return { kind: 'waiting', record };
    });
  }

  /**
   * Re-verifies the backing node right before the instance is built (§3.8 item 1); undefined
   * when it is gone, and the record is pruned so the caller starts over.
   */
  async confirm(req: SlotRequest, allocation: { record: BackingRecord; slot: number }): Promise<Node | undefined> {
    return this.mutex.runExclusive(async () => {
      const id = allocation.record.backingNodeId;
      const found = id ? await this.repo.get(id) : undefined;
      if (found && !found.missing) return found.node;
      this.prune(allocation.record, found?.missing ? found.detail : 'record has no backing node');
      this.forget(req.nodeId);
      return undefined;
    });
  }

  /**
   * Opens a batch of instant allocations (slot-batch.ts) for one pool pass: this allocator's
   * mutex and the ZooKeeper allocation lock are held until the batch ends, and occupants are
   * counted once, from the cache, under the lock. Neither is held when no usable backing node of
   * an eligible label has a free slot: that batch only answers 'later' and files backing requests.
   */
  async beginBatch(pool: PoolConfig, eligible: (label: string) => boolean): Promise<SlotBatch | undefined> {
    return openSlotBatch({
      records: this.records,
      expired: (record) => pastMaxAge(record, this.labelConfig(record.label), this.now()),
      prune: (record, why) => this.prune(record, why),
      verify: (id) => this.repo.get(id),
      nodePath: (id) => this.repo.nodePath(id),
      allocated: (nodeId, record, slot) => {
        if (slot === undefined) this.allocations.delete(nodeId);
        else this.allocations.set(nodeId, { record, slot });
      },
      lockFailed: () => this.lease.invalidate(),
      shortOf: (label, shortages) => this.demand.shortOf(label, shortages),
      log: this.log,
      exclusive: (fn) => this.mutex.runExclusive(fn),
      recovered: () => this.ensureRecovered(),
      settlePending: () => this.demand.settleUnwaited(),
      withAllocationLock: (fn) => this.withAllocationLock(fn),
      occupants: () => this.repo.occupants(),
      heldLock: () => this.lease.current(),
    }, pool, eligible);
  }

  /**
   * A node left its slot (delete machine, or its record deleted): the backing node's idle time
   * starts now. `backingNodeId` when the caller knows it (no read).
   */
  async free(nodeId: string, backingNodeId?: string): Promise<void> {
    await this.mutex.runExclusive(async () => {
      const mine = this.allocations.get(nodeId);
      this.forget(nodeId);
      const record = mine?.record ?? this.byBackingId(backingNodeId ?? (await this.repo.backingOf(nodeId)));
      if (record) record.lastUsed = this.now();
    });
  }

  /** Forgets a node without touching idle times (its record was removed). */
  async forgetNode(nodeId: string): Promise<void> {
    await this.mutex.runExclusive(async () => this.forget(nodeId));
  }

  /**
   * A nodescan of a node on this backing node failed (21f1b88b7): retire the backing node and
   * persist `failed`, so no launcher puts new nodes on it. A vanished backing node only removes
   * the record (§3.8 item 2).
   */
  async retire(nodeId: string): Promise<void> {
    await this.mutex.runExclusive(async () => {
      const mine = this.allocations.get(nodeId);
      const backingId = mine?.record.backingNodeId ?? (await this.repo.backingOf(nodeId));
      if (!backingId) return;
      const record = mine?.record ?? this.byBackingId(backingId);
      if (record) record.failed = true;
      const found = await this.repo.markFailed(backingId);
      this.log.warn('nodescan failed: backing node retired', { node: nodeId, backing_node: backingId });
      if (found.missing && record) this.prune(record, found.detail);
    });
  }

  /**
   * Adopts the backing nodes that are ours in ZooKeeper now (also ones another launcher claimed
   * since our start-up recovery), e.g. when a launcher that served this provider beside us is gone.
   */
  async adopt(): Promise<void> {
    await this.mutex.runExclusive(() => this.sync());
  }

  /**
   * The periodic release pass (`adapter.py:288-337`, run from the provider's cleanup): adopt
   * backing nodes claimed by other launchers, settle pending requests nobody waits for any more,
   * retire backing nodes past `max-age`, and release the empty ones whose `grace-time` and
   * `min-retention-time` have passed — after recounting their occupants from ZooKeeper.
   */
  async releaseIdle(): Promise<void> {
    await this.mutex.runExclusive(async () => {
      await this.sync();
      for (const record of this.records.filter((r) => !r.live && r.waiters.size === 0)) {
        if (!record.requestLost) await this.advanceRequest(record);
        if (record.requestLost) this.remove(record);
      }
      await this.withAllocationLock(async () => {
        const occupants = await this.repo.occupants();
        for (const record of this.records.filter((r) => r.live)) await this.releaseIfIdle(record, occupants);
      });
    });
  }

  private async releaseIfIdle(record: BackingRecord, occupants: Map<string, SlotOccupant[]>): Promise<void> {
    const id = record.backingNodeId as string;
    if (!releaseDue(record, this.labelConfig(record.label), (occupants.get(id) ?? []).length, this.now())) return;
    record.failed = true;
    const found = await this.repo.release(id);
    if (found.missing) this.log.info('backing node already gone; dropping its record', { backing_node: id, reason: found.detail });
    // Dropped even when the node no longer exists (325455ccc).
    this.remove(record);
  }

  /** Records as plain data, for logs and tests. */
  describe(): Array<ReturnType<BackingRecord['snapshot']> & { requestId: string | null; waiters: string[] }> {
    return this.records.map((r) => ({ ...r.snapshot(), requestId: r.requestId, waiters: [...r.waiters].sort() }));
  }

  // ---- internals (mutex held) ----------------------------------------------------------------

  private async ensureRecovered(): Promise<void> {
    if (!this.recovered) await this.sync();
  }

  private async allocateLocked(req: SlotRequest): Promise<AllocationResult> {
    this.forget(req.nodeId); // a retried launch gives back what the failed attempt had
    const got = await this.takeFreeSlot(req);
    if (got) return got;
    const cfg = this.labelConfig(req.label);
    if (!cfg) throw new Error(`label ${req.label} is not configured for this provider`);
    let record = this.records.find((r) => !r.live && !r.requestLost && r.label === req.label && r.waiters.size < r.slots);
    if (!record) {
      record = new BackingRecord(req.label, cfg['max-parallel-jobs'], this.now());
      record.requestId = await this.repo.submitRequest(cfg['backing-label']);
      this.records.push(record);
      this.log.info('requested a backing node', { node: req.nodeId, label: req.label, request: record.requestId });
    }
    record.waiters.add(req.nodeId);
    return { kind: 'waiting', record };
  }

  /**
   * Puts the node into the first free slot of a usable backing node of its label. Free slots
   * are counted from the occupants first, so only a candidate that has one is verified in
   * ZooKeeper (three reads each: verifying full ones cost most of an allocation's reads); one
   * that is no longer ours is pruned and the search goes on.
   */
  private async takeFreeSlot(req: SlotRequest): Promise<AllocationResult | undefined> {
    const cfg = this.labelConfig(req.label);
    const candidates = this.records.filter((r) => r.live && r.label === req.label && !r.failed);
    if (candidates.length === 0) return undefined;
    return this.withAllocationLock(async () => {
      const occupants = await this.repo.occupants();
      for (const record of candidates) {
        if (pastMaxAge(record, cfg, this.now())) {
          record.failed = true; // max-age: no new slots; released once empty
          continue;
        }
        const others = (occupants.get(record.backingNodeId as string) ?? []).filter((o) => o.nodeId !== req.nodeId);
        const slot = layoutSlots(record.slots, others).free[0];
        if (slot === undefined) continue;
        const found = await this.repo.get(record.backingNodeId as string);
        if (found.missing) {
          this.prune(record, found.detail);
          continue;
        }
        if (found.data?.failed) {
          record.failed = true; // retired by another launcher's nodescan failure
          continue;
        }
        await this.repo.writeClaim(req.nodeId, this.driverData(req, record.backingNodeId as string, slot));
        this.allocations.set(req.nodeId, { record, slot });
        this.log.info('allocated slot', { node: req.nodeId, backing_node: record.backingNodeId, slot });
        return { kind: 'slot' as const, record, slot, backing: found.node };
      }
      return undefined;
    });
  }

  private driverData(req: SlotRequest, backingNode: string, slot: number): MetastaticDriverData {
    return { metadata: { ...req.metadata }, backing_node: backingNode, slot, node: req.nodeId };
  }

  /** Claims the backing node of a pending record once its request is fulfilled. */
  private async advanceRequest(record: BackingRecord): Promise<void> {
    const now = this.now();
    const outcome = await this.repo.claim(record.requestId as string, { label: record.label, slots: record.slots, launched: now });
    if (outcome.outcome === 'pending') return;
    if (outcome.outcome === 'claimed') {
      record.backingNodeId = outcome.node.id;
      record.requestId = null;
      record.launched = now;
      record.lastUsed = now;
      return;
    }
    this.log.warn('backing request lost', { request: record.requestId, label: record.label, reason: outcome.detail });
    record.failed = true;
    record.requestLost = outcome.outcome;
    if (record.waiters.size === 0) this.remove(record);
  }

  /**
   * Rebuilds the live records from ZooKeeper (§3.4): adopts every backing node that is ours
   * (also ones another launcher claimed), refreshes `failed`/`launched` from `user_data`, and
   * prunes records whose backing node is no longer ours. Duplicate slot claims are only logged:
   * occupancy is always recounted from ZooKeeper, so they cannot wedge us (§3.8 item 3).
   */
  private async sync(): Promise<void> {
    const owned = await this.repo.listOwned();
    const ids = new Set(owned.map((o) => o.node.id as string));
    for (const record of this.records.filter((r) => r.live && !ids.has(r.backingNodeId as string))) {
      this.prune(record, `backing node ${record.backingNodeId} is no longer ours`);
    }
    const occupants = owned.length > 0 ? await this.repo.occupants() : new Map<string, SlotOccupant[]>();
    for (const { node, data } of owned) {
      const id = node.id as string;
      let record = this.byBackingId(id);
      if (!record) {
        record = new BackingRecord(data.label, data.slots, this.now());
        record.backingNodeId = id;
        this.records.push(record);
        this.log.info('recovered backing node', { backing_node: id, label: data.label, slots: data.slots });
      }
      record.failed = record.failed || data.failed;
      record.launched = data.launched;
      const layout = layoutSlots(record.slots, occupants.get(id) ?? []);
      if (layout.moved.length > 0) {
        this.log.warn('backing node has conflicting slot claims', { backing_node: id, moved: layout.moved, overflow: layout.overflow });
      }
    }
    this.recovered = true;
  }

  private async withAllocationLock<T>(fn: (lock: ZooKeeperLock) => Promise<T>): Promise<T> {
    return this.lease.use(this.lockTimeoutSec, fn);
  }

  private byBackingId(id: string | null): BackingRecord | undefined {
    return id === null ? undefined : this.records.find((r) => r.backingNodeId === id);
  }

  private forget(nodeId: string): void {
    this.allocations.delete(nodeId);
    for (const record of [...this.records]) if (record.waiters.has(nodeId)) this.leaveRecord(record, nodeId);
  }

  private leaveRecord(record: BackingRecord, nodeId: string): void {
    record.waiters.delete(nodeId);
    if (record.requestLost && record.waiters.size === 0) this.remove(record);
  }

  /** Drops a record whose backing node is not ours any more; ZooKeeper is not touched. */
  private prune(record: BackingRecord, why: string): void {
    this.log.info('pruning stale backing node record', { backing_node: record.backingNodeId, label: record.label, reason: why });
    record.failed = true;
    this.remove(record);
  }

  private remove(record: BackingRecord): void {
    const i = this.records.indexOf(record);
    if (i >= 0) this.records.splice(i, 1);
    for (const [nodeId, a] of [...this.allocations]) if (a.record === record) this.allocations.delete(nodeId);
  }
}
