/**
 * The running metastatic provider (spec drivers-config §3): serves its labels by carving slots
 * out of backing nodes that it requests from Nodepool itself through ZooKeeper.
 */
import {
  QuotaInformation, type CreateRequest, type InstantLaunchBatch, type LauncherFleet, type Logger, type Node, type NodeLaunchSettings, type PoolConfig,
  type Provider, type ProviderConfig, type ProviderContext, type StateMachine,
} from '@nodepool-ts/sdk';
import { metastaticOwnerId, parseDriverData } from './backing-node-data';
import { BackingRecordRepository } from './backing-record-repository';
import { MetastaticCreateMachine, MetastaticDeleteMachine } from './metastatic-machines';
import { metastaticPoolLabelConfigs, type MetastaticLabelConfig } from './metastatic-provider-schema';
import { SlotAllocator, type SlotAllocatorOptions } from './slot-allocator';

/** A metastatic provider; see the module comment. */
export class MetastaticProvider implements Provider {
  readonly name: string;
  readonly launches = true;
  /** `NodePool:metastatic:<provider>`. */
  readonly ownerId: string;
  /** Backing-node records in ZooKeeper. */
  readonly repository: BackingRecordRepository;
  /** The in-memory records and allocation decisions. */
  readonly allocator: SlotAllocator;
  private readonly log: Logger;
  private readonly labels = new Map<string, MetastaticLabelConfig>();
  // Set by stop(): a replaced provider's cleanup becomes a no-op; its in-flight machines finish.
  private stopped = false;
  private readonly fleet: LauncherFleet | undefined;
  private fleetOff: (() => void) | undefined;
  /** Whether we stood back at the last fleet change (see {@link standingBack}). */
  private stoodBack = false;

  constructor(
    readonly config: ProviderConfig,
    context: ProviderContext,
    options: SlotAllocatorOptions = {},
  ) {
    this.name = config.name;
    this.ownerId = metastaticOwnerId(config.name);
    this.log = context.logger.child({ provider: config.name });
    this.fleet = context.fleet;
    for (const pool of config.pools) {
      for (const label of metastaticPoolLabelConfigs(pool.raw)) if (!this.labels.has(label.name)) this.labels.set(label.name, label);
    }
    this.repository = new BackingRecordRepository(context.zk, this.ownerId, config.name, this.log);
    this.allocator = new SlotAllocator(this.repository, (label) => this.labels.get(label), this.log, options, context.zk.client);
  }

  /** Recovers backing-node records from ZooKeeper (§3.4). */
  async start(): Promise<void> {
    this.stoodBack = this.standingBack() !== undefined;
    // Taking over from a foreign launcher: the backing nodes it obtained while we stood back are
    // adopted at once, so its requests handed back to us land on them instead of waiting for a
    // new backing node (or for the next release pass to adopt them).
    // Likewise when a launcher went away (killed, or stopped: its backing nodes stay locked under
    // the owner id every launcher of this provider shares): without this its backing nodes, and
    // their slots, would serve nobody until our next release pass (60 s).
    this.fleetOff = this.fleet?.onChange((removed) => {
      const back = this.standingBack() !== undefined;
      if (!back && !this.stopped && (this.stoodBack || removed)) {
        if (this.stoodBack) this.log.info(`serving ${this.name} again: no launcher that ignores our allocation lock serves it`);
        void this.allocator.adopt().catch((err: unknown) => this.log.error(`adopting backing nodes failed: ${(err as Error).message}`));
      }
      this.stoodBack = back;
    });
    await this.allocator.recover();
  }

  /** Stops the release pass; backing nodes stay locked for the next launcher (restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.fleetOff?.();
    await this.allocator.idle();
  }

  /** Metastatic labels need no image: always ready. */
  labelReady(label: string, _pool: PoolConfig): boolean {
    return this.labels.has(label);
  }

  /**
   * Launch settings: the provider's retries and timeouts, the label's host-key checking, and
   * Nodepool's placeholder image data (`username` "unknown", image `unused`) that the backing
   * node's connection data replaces when the launch completes.
   */
  launchSettings(label: string, _pool: PoolConfig): NodeLaunchSettings {
    const raw = this.config.raw;
    return {
      launchRetries: (raw['launch-retries'] as number | undefined) ?? 3,
      launchTimeout: (raw['launch-timeout'] as number | undefined) ?? 3600,
      bootTimeout: (raw['boot-timeout'] as number | undefined) ?? 120,
      hostKeyChecking: this.labels.get(label)?.['host-key-checking'] ?? false,
      connectionType: null,
      connectionPort: 22,
      username: 'unknown',
      imageId: 'unused',
      imageExternalId: null,
    };
  }

  /**
   * Free slots on backing nodes we hold, handed out without a create machine (slot-batch.ts),
   * for labels of the pool that need no host-key check (a nodescan needs the launch). Nothing
   * while we stand back.
   */
  async beginInstantLaunches(pool: PoolConfig): Promise<InstantLaunchBatch | undefined> {
    if (this.stopped || this.standingBack() !== undefined) return undefined;
    const labels = new Set(metastaticPoolLabelConfigs(pool.raw).map((l) => l.name));
    return this.allocator.beginBatch(pool, (label) => labels.has(label) && !(this.labels.get(label)?.['host-key-checking'] ?? false));
  }

  getCreateStateMachine(request: CreateRequest, log: Logger): StateMachine {
    const pool = this.config.pools.find((p) => p.name === request.pool);
    if (!pool) throw new Error(`provider ${this.name} has no pool ${request.pool}`);
    return new MetastaticCreateMachine(this.allocator, request, pool, log);
  }

  getDeleteStateMachine(externalId: unknown, _log: Logger): StateMachine {
    return new MetastaticDeleteMachine(this.allocator, String(externalId));
  }

  /** Retires the backing node of a node whose nodescan failed (external id = node id). */
  async nodescanFailed(node: Node, _label: string, _pool: PoolConfig, _log: Logger): Promise<void> {
    if (node.external_id === null || node.external_id === undefined) return;
    await this.allocator.retire(String(node.external_id));
  }

  /**
   * A launcher that ignores our allocation lock serves this provider (a Python launcher during
   * a migration): its slot bookkeeping lives in its memory, so any slot we hand out or backing
   * node we release could collide with it. We step back entirely: no new requests (the pool
   * worker neither accepts nor declines), no deletes, no releases, until it is gone
   * (docs/coexistence.md).
   */
  standingBack(): string | undefined {
    return this.fleet?.foreignPresence(this.name);
  }

  /** Deletes are left to the foreign launcher too, so its slot memory stays right. */
  mayDelete(): boolean {
    return this.standingBack() === undefined;
  }

  /** Releases idle and retired backing nodes (Nodepool does it in `listResources`). */
  async cleanup(): Promise<void> {
    if (this.stopped || this.standingBack() !== undefined) return;
    await this.allocator.releaseIdle();
    await this.repository.releaseUnfinishedClaims();
  }

  /**
   * A slot is nothing to delete in a cloud: the engine deletes our returned nodes in one
   * transaction (eight round trips fewer than lock, `deleting`, delete machine, delete) and calls
   * {@link nodeDeleted}, which frees the slot. A `building` node (an abandoned launch, or one
   * seen in a snapshot older than its launch's end) keeps the locked way, as before.
   */
  instanceDeletedWithRecord(node: Node): boolean {
    return node.state !== 'building';
  }

  /**
   * The node is gone: its slot is free and the backing node's idle time starts now. A node that
   * never got a slot is only forgotten.
   */
  async nodeDeleted(node: Node): Promise<void> {
    if (!node.id) return;
    const backing = parseDriverData(node.driver_data)?.backing_node;
    if (backing) await this.allocator.free(node.id, backing);
    else await this.allocator.forgetNode(node.id);
  }

  /** Metastatic has no cloud limits; only pool `max-servers` and tenant limits apply (§3.6). */
  async getQuotaLimits(): Promise<QuotaInformation> {
    return QuotaInformation.unlimited();
  }

  /** Each node costs one instance and nothing else (`{cores: 0, instances: 1, ram: 0}`). */
  quotaNeededByLabel(_label: string, _pool: PoolConfig): QuotaInformation {
    return new QuotaInformation({ cores: 0, instances: 1, ram: 0 });
  }
}
