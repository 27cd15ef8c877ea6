/**
 * One provider-pool's request loop (spec §4.2-4.3): registers the `pool` component, then runs
 * passes over `/nodepool/requests` in Nodepool's order. Each pass first advances the pool's
 * request handlers (launches that ended, paused requests waiting for quota), then declines what
 * no pool can serve and takes what this pool can: from ready nodes for providers that never
 * launch (static), by an instant launch when the provider can hand out instances at once
 * (instant-fulfil.ts), through a {@link LaunchHandler} otherwise. The ZooKeeper cache's change
 * events wake it within milliseconds of a new request or a node of its provider changing; a slow
 * poll is the safety net.
 */
import { assignDecision, type OwnPool } from './assign-decision';
import { declineReason } from './decline-reasons';
import { declineRequest, lockRequestNow } from './decline-request';
import { LaunchHandler } from './launch-handler';
import { newPoolLauncherId } from './pool-id';
import type { ProviderRuntime } from './provider-runtime';
import { labelsQuota, tenantQuotaAllows } from './quota-check';
import { requestComparator } from './request-order';
import { ReadyCapacity } from './rendezvous';
import { RendezvousTurns } from './rendezvous-turns';
import { ReaderHandOffs } from './reader-handoffs';
import { SerialRunner } from './serial-runner';
import { fulfilFromReadyNodes, poolFulfilContext, reserveNodesFor, type FulfilContext } from './static-fulfil';
import { InstantPass } from './instant-fulfil';

/** Static fulfilments of one pass allowed in flight at once (a burst of 50 in two rounds). */
const PARALLEL_FULFILMENTS = 32;
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { PoolConfig, TenantLimits } from '../plugins/nodepool-config';
import type { QuotaInformation } from '../plugins/quota';
import type { EngineStats } from './engine-stats';
import type { Tracer } from '../plugins/tracer';
import type { ComponentRegistration, ZooKeeper } from '../plugins/zookeeper';
import { MODEL_API, type PoolComponentRecord } from '../zk/models/component';
import type { Node } from '../zk/models/node';
import type { NodeRequest } from '../zk/models/node-request';

/** How to build a {@link PoolWorker}. */
export interface PoolWorkerOptions {
  zk: ZooKeeper;
  runtime: ProviderRuntime;
  pool: PoolConfig;
  /** Real hostname, published in the component record. */
  hostname: string;
  /** Host part of the pool launcher id (Nodepool uses the FQDN). */
  fqdn: string;
  /** Version string of the component record. */
  version: string;
  logger: Logger;
  tracer?: Tracer;
  /** Launch metrics (Prometheus, statsd). */
  stats?: EngineStats;
  /** `tenant-resource-limits` in force (read on every pass: it changes on reload). */
  tenantLimits?: () => ReadonlyMap<string, TenantLimits>;
  /** Fallback poll period, ms (default 5000). */
  pollIntervalMs?: number;
  /** NodeLauncher poll interval, ms. */
  launchPollMs?: number;
  /** Wait of a pool that is not a request's rendezvous choice, ms (default 1500; 0: race). */
  rendezvousDelayMs?: number;
}

/** What one pass judged on current data, and what it took (see ReaderHandOffs). */
interface PassSeen {
  looked: NodeRequest[];
  taken: Set<string>;
}

/** See the module comment. One object per start; a config change makes new ones. */
export class PoolWorker {
  /** Our pool launcher id: in `declined_by`, `node.launcher` and the component record. */
  readonly id: string;
  private readonly log: Logger;
  private readonly own: OwnPool;
  private readonly runner: SerialRunner;
  private registration: ComponentRegistration<PoolComponentRecord> | undefined;
  private handlers: LaunchHandler[] = [];
  private stopped = false;
  /** Set by {@link drain}: resolved once the last request in hand is done. */
  private drained: (() => void) | undefined;
  private unsubscribe: Array<() => void> = [];
  private soon: NodeJS.Timeout | undefined;
  /** The provider's last standing-back reason, logged when it changes. */
  private steppedBack: string | undefined;
  private readonly onConnected = (): void => this.wake();
  /** Who takes which request among nodepool-ts pools (issue 17). */
  private readonly turns: RendezvousTurns;
  /** What this pool reads first for the others and does not take (issue 17). */
  private readonly handOffs: ReaderHandOffs;

  constructor(private readonly options: PoolWorkerOptions) {
    const { runtime, pool } = options;
    this.id = newPoolLauncherId(options.fqdn, runtime.provider.name, pool.name);
    this.log = options.logger.child({ provider: runtime.provider.name, pool: pool.name });
    this.own = { id: this.id, provider: runtime.provider.name, priority: pool.priority, labels: new Set(pool.labels) };
    this.turns = new RendezvousTurns(this.own, options.rendezvousDelayMs, () => this.wake(), (id) => options.zk.requestSeenAt?.(id));
    this.handOffs = new ReaderHandOffs(this.id, options.zk, this.log);
    this.runner = new SerialRunner({
      name: 'pool', intervalMs: options.pollIntervalMs ?? 5000, pass: () => this.loopPass(), logger: this.log,
      // Paused without a session (spec §4.1); `onConnected` wakes it again.
      mayRun: () => options.zk.client.state === 'connected',
    });
  }

  /** The pool's config. */
  get pool(): PoolConfig {
    return this.options.pool;
  }

  /** Whether some accepted request waits for quota (published as `paused`). */
  get paused(): boolean {
    return this.handlers.some((h) => h.paused);
  }

  /**
   * Whether this pool has no use for `request`'s changes now: declined by us, or one it would
   * consider and leaves to another pool's turn (see ZooKeeper.followRequests). Whatever the
   * cache then leaves unread is read before this pool acts on the request ({@link pass}).
   */
  leavesToOthers(request: NodeRequest, registered: readonly PoolComponentRecord[]): boolean {
    if (this.stopped || this.drained) return true;
    if (request.declined_by.includes(this.id)) return true;
    return assignDecision(request, this.own, registered).action === 'consider' && this.turns.wouldWait(request, registered);
  }

  /** Requests this pool is working on (read-only view for tests and status). */
  get activeHandlers(): readonly LaunchHandler[] {
    return this.handlers;
  }

  /** The component record as published (keys exactly those of spec §2.3). */
  record(): PoolComponentRecord {
    const { runtime, pool } = this.options;
    return {
      hostname: this.options.hostname,
      kind: 'pool',
      state: 'running',
      version: this.options.version,
      model_api: MODEL_API,
      id: this.id,
      name: pool.name,
      provider_name: runtime.provider.name,
      supported_labels: [...pool.labels],
      priority: Math.trunc(pool.priority),
      paused: this.paused,
    };
  }

  /**
   * Registers the pool (already `running`, LCH:478), follows the cache's changes (the engine
   * started it) and runs a first pass.
   */
  async start(): Promise<void> {
    const { zk, runtime } = this.options;
    this.registration = await zk.registerComponent('pool', this.record());
    const provider = runtime.provider.name;
    this.unsubscribe = [
      // A request to consider: new, or back to `requested` (released, or reset after a crash).
      zk.onRequestChange((_id, current, previous) => {
        if (current?.state !== 'requested' || previous?.state === 'requested') return;
        // Back from `pending`: a launcher released it unserved (maybe us, for want of nodes) or the
        // cleanup reset it. Looking again at once could spin; a node change wakes us sooner.
        if (previous?.state === 'pending') this.wakeSoon();
        else this.wake();
      }),
      // A node of ours changed: maybe free again, maybe quota freed, maybe a launch ended.
      zk.onNodeChange((_id, current, previous) => {
        if ((current ?? previous)?.provider === provider && current?.state !== previous?.state) this.wake();
        else if (current?.provider === provider && current.state === 'ready' && !current.allocated_to && previous?.allocated_to) this.wake();
      }),
    ];
    zk.client.on('connected', this.onConnected).on('reconnected', this.onConnected);
    this.runner.start();
  }

  /**
   * Stops taking work, waits for the pass in flight, hands back the requests it was working on
   * (launches are cancelled by the provider runtime's signal) and removes the registration.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    clearTimeout(this.soon);
    this.turns.stop();
    this.handOffs.stop();
    this.options.zk.client.off('connected', this.onConnected).off('reconnected', this.onConnected);
    await this.runner.stop();
    this.drained?.();
    const handlers = this.handlers;
    this.handlers = [];
    await Promise.all(handlers.map((h) => h.abandon().catch((err: unknown) => this.log.warn('abandoning request failed', { request: h.request.id, err: (err as Error).message }))));
    await this.registration?.unregister().catch((err: unknown) => this.log.warn('pool unregister failed', { err: (err as Error).message }));
    this.registration = undefined;
  }

  /**
   * Takes no new request and unregisters the pool; the requests in hand run to their end (their
   * launches complete and the nodes go to the requests), then the worker stops. For the old copy
   * of an edited provider, beside the new one (Nodepool keeps it until its launches end).
   */
  async drain(): Promise<void> {
    if (this.stopped) return;
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    await this.registration?.unregister().catch((err: unknown) => this.log.warn('pool unregister failed', { err: (err as Error).message }));
    this.registration = undefined;
    this.wake();
    await done;
    await this.stop();
  }

  /** Asks for a pass now; coalesces with a pass in flight. */
  wake(): void {
    if (!this.stopped) this.runner.wake();
  }

  /** A pass in a second (coalesced: at most one such timer at a time). */
  private wakeSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.wake();
    }, 1000);
    this.soon.unref();
  }

  /** Resolves when no pass is in flight (tests use it to settle). */
  async idle(): Promise<void> {
    await this.runner.idle();
  }

  private async loopPass(): Promise<void> {
    await this.pollHandlers();
    if (this.drained) {
      // A request waiting for quota would hold the old copy forever: hand it back to the new one.
      const waiting = this.handlers.filter((h) => h.paused);
      this.handlers = this.handlers.filter((h) => !h.paused);
      await Promise.all(waiting.map((h) => h.abandon().catch((err: unknown) => this.log.warn('abandoning request failed', { request: h.request.id, err: (err as Error).message }))));
      if (this.handlers.length === 0) this.drained();
      return;
    }
    await this.pass();
    await this.publishPaused();
  }

  /** Advances every handler; paused ones in request order (LCH:353-366), finished ones dropped. */
  private async pollHandlers(): Promise<void> {
    if (this.handlers.length === 0) return;
    const order = requestComparator(this.own.labels);
    const handlers = [...this.handlers].sort((a, b) => order(a.request, b.request));
    for (const handler of handlers) {
      if (this.stopped) return;
      await handler.poll();
    }
    this.handlers = this.handlers.filter((h) => !h.done);
  }

  private async publishPaused(): Promise<void> {
    const paused = this.paused;
    if (!this.registration || this.registration.content.paused === paused) return;
    await this.registration.update({ paused }).catch((err: unknown) => this.log.warn('cannot update pool component', { err: (err as Error).message }));
    this.log.info(paused ? 'pool paused at quota' : 'pool unpaused');
  }

  /** One pass of `_assignHandlers` over every request, in Nodepool's order (spec §4.3). */
  private async pass(): Promise<void> {
    const { zk, runtime } = this.options;
    const provider = runtime.provider;
    if (provider.config.maxConcurrency === 0) return; // LCH:121-122
    // Stale requests (a change not read: see leavesToOthers) come as last read, `requested`.
    const requests = (await zk.getNodeRequests({ stale: 'keep' })).filter((r) => r.state === 'requested');
    if (requests.length === 0) {
      this.turns.endPass(requests);
      this.handOffs.afterPass([], new Set(), requests, []);
      return;
    }
    requests.sort(requestComparator(this.own.labels));
    const registered = await zk.getRegisteredPools();
    const inflight = new Set<Promise<void>>();
    const instant = provider.beginInstantLaunches ? new InstantPass({ ...this.options, ownId: this.id, logger: this.log }) : undefined;
    const seen: PassSeen = { looked: [], taken: new Set() };
    try {
      await this.passOver(requests, registered, instant, inflight, seen);
    } finally {
      await Promise.all(inflight);
      await instant?.end();
    }
    this.turns.endPass(requests);
    if (!this.stopped) this.handOffs.afterPass(seen.looked, seen.taken, requests, registered);
  }

  /** The loop of {@link pass}; static fulfilments and instant launches are left in flight. */
  private async passOver(requests: NodeRequest[], registered: PoolComponentRecord[], instant: InstantPass | undefined, inflight: Set<Promise<void>>, seen: PassSeen): Promise<void> {
    const { zk, runtime, pool } = this.options;
    const provider = runtime.provider;
    let fulfil: FulfilContext | undefined;
    let nodes: Node[] | undefined;
    let cloudLimits: QuotaInformation | undefined;
    let capacity: ReadyCapacity | undefined;
    for (let request of requests) {
      // Connection gone mid-pass: stop here; the reconnect wakes us (spec §4.1). `break`, not
      // `return`: the fulfilments already started are awaited below.
      if (this.stopped || zk.client.state !== 'connected') break;
      if (zk.isRequestStale?.(request.id as string)) {
        // Changed since read (most likely fulfilled by the pool whose turn it is): waiting for
        // that turn needs no current data; anything else is decided on a fresh read.
        if (assignDecision(request, this.own, registered).action === 'consider' && !this.turns.mayTake(request, registered)) continue;
        const fresh = await zk.freshNodeRequest?.(request.id as string).catch(() => undefined);
        if (!fresh || fresh.state !== 'requested') continue;
        request = fresh;
      }
      const decision = assignDecision(request, this.own, registered);
      seen.looked.push(request);
      if (decision.action === 'skip') continue;
      // Standing back (a launcher that ignores our locks serves this provider): neither accept
      // nor decline, so the request waits for that launcher or for us once it is gone.
      if (decision.action === 'consider' && this.standingBack(provider)) continue;
      if (decision.action === 'consider' && request.tenant_name) {
        const limits = this.options.tenantLimits?.().get(request.tenant_name);
        // Every provider's nodes, current: read only when the tenant has limits.
        if (limits) nodes ??= await zk.getNodes();
        if (limits && !tenantQuotaAllows(limits, nodes ?? [], labelsQuota(provider, request.node_types, pool))) continue;
      }
      if (provider.launches && decision.action === 'consider') {
        cloudLimits ??= await runtime.limits(new Set((await zk.getNodes(undefined, { providers: new Set([provider.name]) })).map((n) => n.id as string)));
      }
      const reason = decision.action === 'decline' ? decision.reason : declineReason(request, provider, pool, cloudLimits);
      if (reason !== undefined) {
        // One request's trouble (e.g. deleted mid-way) must not end the pass for the others.
        await declineRequest(request, reason, registered, { zk, ownId: this.id, logger: this.log, tracer: this.options.tracer }).catch((err: unknown) =>
          this.log.error('declining request failed', { request: request.id, err: (err as Error).message }),
        );
        continue;
      }
      if (provider.launches) {
        // LCH:245-266: a paused pool only declines; max-concurrency counts the whole provider.
        if (this.paused || !runtime.mayLaunch()) continue;
        if (!this.turns.mayTake(request, registered)) continue;
        seen.taken.add(request.id as string);
        if (instant && (await instant.start(request, (nodes ??= await zk.getNodes())))) continue;
        await this.accept(request).catch((err: unknown) =>
          this.log.error('accepting request failed', { request: request.id, err: (err as Error).message }),
        );
        nodes = undefined; // the handler created or allocated nodes
        continue;
      }
      // Without reuse a pool that cannot launch has nothing to offer; Nodepool would lock, mark
      // pending and release it again unchanged (DRV:537-547), so skip the round trip.
      if (!request.reuse) continue;
      // Another launcher's node whose change we did not read is most likely no longer free (a
      // free ready node's first change is its allocation): left out, so the estimate errs on
      // taking at once, as every pool did before the split.
      capacity ??= new ReadyCapacity(await zk.getNodes(undefined, { stale: 'omit' }));
      if (!this.turns.mayTake(request, registered, capacity)) continue;
      fulfil ??= await poolFulfilContext({ zk, provider, pool, ownId: this.id, logger: this.log, tracer: this.options.tracer });
      const reserved = reserveNodesFor(request, fulfil);
      if (!reserved) continue;
      seen.taken.add(request.id as string);
      // Fulfilments run side by side (each waits on a round trip to ZooKeeper, whose writes are
      // fsynced in groups); the reservation keeps them apart, and a bounded number in flight
      // keeps the order close to the request order.
      const run: Promise<void> = fulfilFromReadyNodes(request, fulfil, reserved)
        .then(() => undefined, (err: unknown) => this.log.error('fulfilling request failed', { request: request.id, err: (err as Error).message }))
        .finally(() => inflight.delete(run));
      inflight.add(run);
      if (inflight.size >= PARALLEL_FULFILMENTS) await Promise.race(inflight);
    }
  }

  /** The provider's {@link Provider.standingBack} reason, logged once each time it changes. */
  private standingBack(provider: Provider): boolean {
    const reason = provider.standingBack?.();
    if (reason !== this.steppedBack) {
      if (reason) this.log.warn(`leaving requests to other launchers: ${reason}`);
      else this.log.info('serving requests again');
      this.steppedBack = reason;
    }
    return reason !== undefined;
  }

  /** Locks without waiting, re-checks (LCH:268-288) and runs a handler for the request. */
  private async accept(request: NodeRequest): Promise<void> {
    const { zk } = this.options;
    const lock = await lockRequestNow(zk, request);
    if (!lock) return;
    if (request.state !== 'requested' || request.declined_by.includes(this.id)) {
      await zk.unlockNodeRequest(request).catch(() => undefined);
      return;
    }
    const handler = new LaunchHandler(request, {
      zk,
      runtime: this.options.runtime,
      pool: this.options.pool,
      ownId: this.id,
      logger: this.log,
      tracer: this.options.tracer,
      stats: this.options.stats,
      registeredPools: () => zk.getRegisteredPools(),
      wake: () => this.wake(),
      launchPollMs: this.options.launchPollMs,
    });
    this.handlers.push(handler);
    await handler.run(lock);
    if (handler.done) this.handlers = this.handlers.filter((h) => h !== handler);
  }
}
