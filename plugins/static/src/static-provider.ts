/**
 * The running static provider (spec drivers-config §2): it never launches anything; it keeps one
 * `ready` node record per slot of every configured host in ZooKeeper, and re-registers a slot
 * when its record is deleted after use.
 */
import {
  Node, NoNodeError, type LauncherFleet, type Logger, type NodeRequest, type PoolConfig, type Provider,
  type ProviderConfig, type ProviderContext, type ZooKeeper,
} from '@nodepool-ts/sdk';
import { AsyncMutex } from '@nodepool-ts/sdk';
import { checkHost, resolveHost, tcpReachable } from './host-check';
import { readSlotMap } from './read-slot-map';
import { registrationLock, type RegistrationLock } from './registration-lock';
import {
  STATIC_LAUNCHER, configuredHosts, describeTuple, hostTuple, needsUpdate, nodeTuple, updatableFields,
  type StaticHost,
} from './static-host';
import { staticDeclineReason } from './static-decline-reason';
import { staticPoolNodes } from './static-provider-schema';

// One mutex per ZooKeeper connection and provider name, not per object: on a config change the
// launcher starts the new provider object before it stops the old one (spec §1.1 step 6), and
// the two must not register into the same slots at the same time either.
const mutexes = new WeakMap<ZooKeeper, Map<string, AsyncMutex>>();

function providerMutex(zk: ZooKeeper, name: string): AsyncMutex {
  let byName = mutexes.get(zk);
  if (!byName) mutexes.set(zk, (byName = new Map()));
  let mutex = byName.get(name);
  if (!mutex) byName.set(name, (mutex = new AsyncMutex()));
  return mutex;
}

/** A static provider; see the module comment. Its configuration never changes once created. */
export class StaticProvider implements Provider {
  readonly name: string;
  readonly launches = false;
  private readonly zk: ZooKeeper;
  private readonly log: Logger;
  private readonly hosts: StaticHost[];
  private readonly byTuple = new Map<string, StaticHost>();
  // Shared by start, the periodic sync and the node-deleted handler (of every object of this
  // provider, see providerMutex): each rebuilds the slot map and registers into it, so two of
  // them interleaving could give one slot two records.
  private readonly mutex: AsyncMutex;
  private readonly registration: RegistrationLock;
  // Set by stop(): a replaced provider's hooks become no-ops (Nodepool's idle flag, §2.5).
  private stopped = false;
  /** Deleted records whose slot waits for the next re-registration round, by node id. */
  private readonly pendingSlots = new Map<string, Node>();
  private readonly fleet: LauncherFleet | undefined;
  /** Why registration is left to another launcher (last seen), or undefined while it is ours. */
  private steppedBack: string | undefined;
  private fleetOff: (() => void) | undefined;
  /** A sync after a fleet change waits for the mutex. */
  private resyncQueued = false;

  constructor(readonly config: ProviderConfig, context: ProviderContext) {
    this.name = config.name;
    this.zk = context.zk;
    this.log = context.logger.child({ provider: config.name });
    this.mutex = providerMutex(context.zk, config.name);
    this.registration = registrationLock(context.zk, config.name);
    this.fleet = context.fleet;
    this.hosts = configuredHosts(config.pools, staticPoolNodes);
    for (const host of this.hosts) this.byTuple.set(hostTuple(host.node), host);
  }

  /** Registers missing slots, deregisters surplus ones and updates changed idle records. */
  async start(): Promise<void> {
    this.foreign();
    // Registration comes back to us as soon as the last foreign launcher of this provider is
    // gone: a sync at once registers what it left missing (docs/coexistence.md). So when any
    // launcher went away: one killed between deleting a used record and registering its slot
    // again left the slot empty until our periodic sync (60 s). One queued sync covers the
    // records of a departure, which vanish one by one.
    this.fleetOff = this.fleet?.onChange((removed) => {
      // Another launcher may want the registration lock now: do not keep it.
      void this.mutex.runExclusive(() => this.registration.releaseIfShared(this.fleet)).catch(() => undefined);
      const before = this.steppedBack;
      if (this.foreign() !== undefined || (before === undefined && !removed) || this.resyncQueued) return;
      this.resyncQueued = true;
      void this.mutex.runExclusive(async () => {
        this.resyncQueued = false;
        if (!this.stopped) await this.registering(() => this.sync(false));
      }).catch((err: unknown) => this.log.error(`static sync after a fleet change failed: ${(err as Error).message}`));
    });
    await this.mutex.runExclusive(() => this.registering(() => this.sync(true)));
  }

  /** Stops the hooks and waits for a running sync or re-registration to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.fleetOff?.();
    await this.mutex.runExclusive(() => this.registration.releaseIfShared(this.fleet, true));
  }

  /**
   * The periodic sync (spec §2.6): registers missing slots and deregisters surplus ones, so a
   * record deleted behind our back comes back. Records are not updated here, as in Nodepool.
   */
  async cleanup(): Promise<void> {
    if (this.stopped) return;
    await this.mutex.runExclusive(async () => {
      if (!this.stopped) await this.registering(() => this.sync(false));
    });
  }

  /**
   * A record of ours was removed from ZooKeeper: register a fresh one for the same slot if the
   * host is still configured, the slot is still within max-parallel-jobs and, once we hold the
   * mutex and have re-read ZooKeeper, nobody filled it meanwhile (Nodepool bcfc44b4a).
   *
   * Records come back in bursts (every job of a buildset ends at once) and each registration
   * round (registration lock, slot map, release) costs several ZooKeeper round trips under the
   * mutex, so slots wait in {@link pendingSlots} and one round registers all that are waiting
   * when it starts. Resolves once this node's slot was handled.
   */
  async nodeDeleted(node: Node): Promise<void> {
    if (this.stopped || node.provider !== this.name || node.slot === null) return;
    // The foreign launcher's own sync registers it (we do not delete while it is here; this is
    // a delete that raced its arrival).
    if (this.foreign() !== undefined) return;
    const host = this.byTuple.get(nodeTuple(node));
    if (!host || node.slot >= host.node['max-parallel-jobs']) return;
    this.pendingSlots.set(node.id as string, node);
    await this.mutex.runExclusive(async () => {
      const batch = [...this.pendingSlots.values()];
      this.pendingSlots.clear();
      // An earlier round took this node's slot along.
      if (this.stopped || batch.length === 0) return;
      try {
        await this.registering(() => this.reRegister(batch));
      } catch (err) {
        for (const n of batch) this.log.error(`Cannot re-register static host ${describeTuple(nodeTuple(n))} slot ${n.slot}: ${(err as Error).message}`, { node: n.id, err });
      }
    });
  }

  /** One round of {@link nodeDeleted}: the slots of `deleted` still empty, host by host. */
  private async reRegister(deleted: readonly Node[]): Promise<void> {
    const slots = await readSlotMap(this.zk, this.name, this.hosts);
    const byHost = new Map<StaticHost, number[]>();
    for (const node of deleted) {
      const tuple = nodeTuple(node);
      const host = this.byTuple.get(tuple)!;
      const entries = slots.get(tuple)!;
      const slot = node.slot as number;
      if (entries.some((n) => n !== null && n.id === node.id) || entries[slot] !== null) continue;
      // Two records of one slot in one round: register it once.
      entries[slot] = node;
      byHost.set(host, [...(byHost.get(host) ?? []), slot]);
    }
    await Promise.all([...byHost].map(([host, hostSlots]) => this.registerHost(host, hostSlots)));
  }

  /**
   * Records are deleted (and so re-registered) by us only while no launcher that ignores our
   * registration lock serves this provider: that launcher's deleted-node worker deletes them
   * and re-registers the slot under its own in-process lock, the only lock its periodic sync
   * honours. Two registrars would give one slot two records (docs/coexistence.md).
   */
  mayDelete(): boolean {
    return this.foreign() === undefined;
  }

  /**
   * Why slot registration is left to another launcher now (logged when that changes), or
   * undefined when it is ours.
   */
  private foreign(): string | undefined {
    const reason = this.fleet?.foreignPresence(this.name);
    if (reason !== this.steppedBack) {
      if (reason) this.log.warn(`leaving slot registration and deletion of ${this.name} to another launcher: ${reason}`);
      else this.log.info(`registering the slots of ${this.name} again: no launcher that ignores our registration lock serves it`);
      this.steppedBack = reason;
    }
    return reason;
  }

  /**
   * Liveness check before a ready record is handed out (spec §2.7): a host no longer configured
   * is unusable; with host-key-checking off it is usable; else it must accept a TCP connection
   * within its timeout, and a dead host's record is deregistered. Call it before locking the
   * node: deregistering takes the node lock without waiting.
   */
  async isNodeUsable(node: Node): Promise<boolean> {
    const tuple = nodeTuple(node);
    const host = this.byTuple.get(tuple);
    if (!host) return false;
    const n = host.node;
    if (!n['host-key-checking']) return true;
    if (await tcpReachable(n.name, n['connection-port'], n.timeout)) return true;
    this.log.warn(`Static host ${describeTuple(tuple)} is not reachable; deregistering its record`, { node: node.id });
    // A fresh object: locking refreshes it in place, and the caller's copy is not ours to change.
    await this.deregister(new Node(node.id)).catch((err: unknown) => this.log.error(`Cannot deregister node ${node.id}`, { node: node.id, err }));
    return false;
  }

  /** See {@link staticDeclineReason}. */
  declineReason(request: NodeRequest, pool: PoolConfig): string | undefined {
    return staticDeclineReason(request, pool);
  }

  /**
   * The in-process mutex keeps this launcher's own hooks apart; two launchers running the same
   * static provider (a rolling restart overlaps them) must not register into the same free slot
   * either, or one host slot gets two `ready` records and two jobs (found by the rolling-restart
   * fault test). So every slot-map-and-register step also holds a ZooKeeper lock per provider
   * name, like metastatic's allocation lock. Python launchers do not take it: while one serves
   * this provider we register nothing (see {@link mayDelete}).
   */
  private async registering(fn: () => Promise<void>): Promise<void> {
    // Kept between rounds while no other launcher may serve this provider (registration-lock.ts).
    await this.registration.run(fn, this.fleet, this.log);
  }

  /**
   * One pass over every host in parallel (a slow host costs at most its own timeout), then the
   * records of hosts no longer configured are deregistered. Nodepool does the last step only at
   * start-up; doing it periodically too only retries deregistrations that found a record locked.
   */
  private async sync(update: boolean): Promise<void> {
    const slots = await readSlotMap(this.zk, this.name, this.hosts);
    await Promise.all(
      this.hosts.map((host) =>
        this.syncHost(host, slots.get(hostTuple(host.node))!, update).catch((err: unknown) =>
          this.log.error(`Cannot sync static host ${describeTuple(hostTuple(host.node))}: ${(err as Error).message}`, { host: host.node.name, err }),
        ),
      ),
    );
    for (const [tuple, entries] of slots) {
      if (this.byTuple.has(tuple)) continue;
      for (const node of entries) if (node) await this.deregisterLogged(node);
    }
  }

  private async syncHost(host: StaticHost, entries: Array<Node | null>, update: boolean): Promise<void> {
    const max = host.node['max-parallel-jobs'];
    const missing: number[] = [];
    const existing: Node[] = [];
    for (const [slot, node] of entries.entries()) {
      if (node === null) missing.push(slot);
      else if (slot >= max) await this.deregisterLogged(node);
      else existing.push(node);
    }
    if (missing.length > 0 && this.foreign() === undefined) await this.registerHost(host, missing);
    if (update && existing.length > 0) await this.updateHost(host, existing);
  }

  /**
   * Checks the host once, then creates one `ready` record per slot with the fields of spec
   * §2.2. A host that fails its check or does not resolve is logged and skipped.
   */
  private async registerHost(host: StaticHost, slots: number[]): Promise<void> {
    const n = host.node;
    const tuple = hostTuple(n);
    let hostKeys: string[];
    let address: Awaited<ReturnType<typeof resolveHost>>;
    try {
      hostKeys = await checkHost(n, describeTuple(tuple));
      address = await resolveHost(n.name, describeTuple(tuple));
    } catch (err) {
      this.log.error(`Failed to register static host ${n.name}: ${(err as Error).message}`, { host: n.name, err });
      return;
    }
    for (const slot of slots) {
      // Checked right before each create: a Python launcher that just came up registers from
      // its own snapshot, and the sooner we stop the narrower the window for a second record.
      if (this.foreign() !== undefined) return;
      const node = new Node();
      node.state = 'ready';
      node.provider = this.name;
      node.pool = host.pool.name;
      node.launcher = STATIC_LAUNCHER;
      Object.assign(node, updatableFields(n, hostKeys));
      node.external_id = n.name;
      node.hostname = n.name;
      node.interface_ip = n.name;
      node.public_ipv4 = address.public_ipv4;
      node.public_ipv6 = address.public_ipv6;
      node.attributes = host.pool.nodeAttributes ? { ...host.pool.nodeAttributes } : null;
      node.slot = slot;
      await this.zk.createNode(node);
      this.log.info(`Registered static node ${node.id} for host ${describeTuple(tuple)} slot ${slot}`, { node: node.id });
    }
  }

  /**
   * Rewrites the host-derived fields of this host's idle records in place, keeping their ids
   * (spec §2.5 step 2). Records that are locked, not `ready` or allocated are left alone.
   */
  private async updateHost(host: StaticHost, nodes: Node[]): Promise<void> {
    const n = host.node;
    const idle = (node: Node): boolean => node.state === 'ready' && !node.allocated_to;
    const stale = nodes.filter(idle);
    if (stale.length === 0) return;
    let hostKeys: string[];
    try {
      hostKeys = await checkHost(n, describeTuple(hostTuple(n)));
    } catch (err) {
      this.log.error(`Failed to update static host ${n.name}: ${(err as Error).message}`, { host: n.name, err });
      return;
    }
    for (const node of stale) {
      if (!needsUpdate(node, n, hostKeys)) continue;
      if (!(await this.lockNow(node))) continue;
      try {
        // lockNode re-read the record: decide on what is there now.
        if (!idle(node) || !needsUpdate(node, n, hostKeys)) continue;
        Object.assign(node, updatableFields(n, hostKeys));
        await this.zk.storeNode(node);
        this.log.info(`Updated static node ${node.id} from host ${n.name}`, { node: node.id });
      } finally {
        await this.zk.unlockNode(node);
      }
    }
  }

  /**
   * Marks an idle record `deleting` for the deleted-node worker (spec §2.5): lock without
   * waiting, re-read, and only a record still `ready` and unallocated is touched.
   *
   * @returns true when the record was marked
   */
  private async deregister(node: Node): Promise<boolean> {
    if (!node.id || !(await this.lockNow(node))) return false;
    try {
      if (node.state !== 'ready' || node.allocated_to) return false;
      node.state = 'deleting';
      await this.zk.storeNode(node);
      this.log.info(`Deregistered static node ${node.id} of host ${describeTuple(nodeTuple(node))}`, { node: node.id });
      return true;
    } finally {
      await this.zk.unlockNode(node);
    }
  }

  /**
   * Locks a record without waiting (refreshing it in place). False when someone else holds the
   * lock or the record is gone: the deleted-node worker racing us is normal, not an error.
   */
  private async lockNow(node: Node): Promise<boolean> {
    try {
      return (await this.zk.lockNode(node, { blocking: false })) !== undefined;
    } catch (err) {
      if (err instanceof NoNodeError) return false;
      throw err;
    }
  }

  private async deregisterLogged(node: Node): Promise<void> {
    // A fresh object: locking refreshes it in place, and the caller's copy is not ours to change.
    await this.deregister(new Node(node.id)).catch((err: unknown) =>
      this.log.error(`Cannot deregister static node ${node.id}: ${(err as Error).message}`, { node: node.id, err }),
    );
  }
}
