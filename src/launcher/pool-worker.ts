/**
 * One provider-pool's request loop (spec §4.2-4.3): registers the `pool` component, then runs
 * passes over `/nodepool/requests` in Nodepool's order, declining what no pool can serve and
 * fulfilling what it can from ready nodes. A children watch on the request root wakes it within
 * milliseconds of a new request; a slow poll covers lost watches and changes a watch cannot see
 * (a node becoming free, a request released by another launcher).
 */
import { applyDecline, assignDecision, type OwnPool } from './assign-decision';
import { newPoolLauncherId } from './pool-id';
import { requestComparator } from './request-order';
import { fulfilFromReadyNodes, hasFreeNodesFor, type FulfilContext } from './static-fulfil';
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { PoolConfig } from '../plugins/nodepool-config';
import { NoNodeError, type ComponentRegistration, type ZooKeeper } from '../plugins/zookeeper';
import { MODEL_API, type PoolComponentRecord } from '../zk/models/component';
import type { NodeRequest } from '../zk/models/node-request';
import { REQUEST_ROOT } from '../zk/nodepool-paths';

/** How to build a {@link PoolWorker}. */
export interface PoolWorkerOptions {
  zk: ZooKeeper;
  provider: Provider;
  pool: PoolConfig;
  /** Real hostname, published in the component record. */
  hostname: string;
  /** Host part of the pool launcher id (Nodepool uses the FQDN). */
  fqdn: string;
  /** Version string of the component record. */
  version: string;
  logger: Logger;
  /** Fallback poll period, ms (default 5000). */
  pollIntervalMs?: number;
}

/** See the module comment. One object per start; a config change makes new ones. */
export class PoolWorker {
  /** Our pool launcher id: in `declined_by`, `node.launcher` and the component record. */
  readonly id: string;
  private readonly log: Logger;
  private readonly own: OwnPool;
  private registration: ComponentRegistration<PoolComponentRecord> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Passes are serialized: `running` is the pass in flight, `again` asks for one more after it
  // (an event that arrived mid-pass may concern a request the pass already read past).
  private running: Promise<void> | undefined;
  private again = false;
  private watchArmed = false;
  // A new session loses every watch without firing it: note that, and re-arm on reconnect.
  private readonly onLost = (): void => {
    this.watchArmed = false;
  };
  private readonly onConnected = (): void => this.wake();

  constructor(private readonly options: PoolWorkerOptions) {
    const { provider, pool } = options;
    this.id = newPoolLauncherId(options.fqdn, provider.name, pool.name);
    this.log = options.logger.child({ provider: provider.name, pool: pool.name });
    this.own = { id: this.id, provider: provider.name, priority: pool.priority, labels: new Set(pool.labels) };
  }

  /** The component record as published (keys exactly those of spec §2.3). */
  record(): PoolComponentRecord {
    const { provider, pool } = this.options;
    return {
      hostname: this.options.hostname,
      kind: 'pool',
      state: 'running',
      version: this.options.version,
      model_api: MODEL_API,
      id: this.id,
      name: pool.name,
      provider_name: provider.name,
      supported_labels: [...pool.labels],
      priority: Math.trunc(pool.priority),
      paused: false,
    };
  }

  /** Registers the pool (already `running`, LCH:478), arms the watch and runs a first pass. */
  async start(): Promise<void> {
    const { zk } = this.options;
    this.registration = await zk.registerComponent('pool', this.record());
    await zk.client.ensurePath(REQUEST_ROOT);
    zk.client.on('lost', this.onLost).on('connected', this.onConnected).on('reconnected', this.onConnected);
    await this.armWatch();
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 5000);
    this.wake();
  }

  /** Stops waking, waits for the pass in flight and removes the registration (LCH:546-547). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.zk.client.off('lost', this.onLost).off('connected', this.onConnected).off('reconnected', this.onConnected);
    await this.running?.catch(() => undefined);
    await this.registration?.unregister().catch((err: unknown) => this.log.warn('pool unregister failed', { err: (err as Error).message }));
    this.registration = undefined;
  }

  /** Asks for a pass now; coalesces with a pass in flight. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no pass is in flight (tests use it to settle). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        if (!this.watchArmed) await this.armWatch();
        await this.pass();
      } catch (err) {
        this.log.error('pool pass failed', { err: (err as Error).message });
      }
    } while (this.again && !this.stopped);
  }

  /** One-shot children watch, re-armed on every event; a failure leaves it to the next poll. */
  private async armWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.options.zk.client.getChildren(REQUEST_ROOT, () => {
        this.watchArmed = false;
        this.wake();
      });
      this.watchArmed = true;
    } catch (err) {
      this.watchArmed = false;
      this.log.debug('cannot watch the request root', { err: (err as Error).message });
    }
  }

  /** One pass of `_assignHandlers` over every request, in Nodepool's order (spec §4.3). */
  private async pass(): Promise<void> {
    const { zk, provider, pool } = this.options;
    if (provider.config.maxConcurrency === 0) return; // LCH:121-122
    const requests = (await zk.getNodeRequests()).filter((r) => r.state === 'requested');
    if (requests.length === 0) return;
    requests.sort(requestComparator(this.own.labels));
    const registered = await zk.getRegisteredPools();
    let fulfil: FulfilContext | undefined;
    for (const request of requests) {
      if (this.stopped) return;
      const decision = assignDecision(request, this.own, registered);
      if (decision.action === 'skip') continue;
      const reason = decision.action === 'decline' ? decision.reason : provider.declineReason?.(request, pool);
      if (reason !== undefined) {
        // One request's trouble (e.g. deleted mid-way) must not end the pass for the others.
        await this.decline(request, reason, registered).catch((err: unknown) =>
          this.log.error('declining request failed', { request: request.id, err: (err as Error).message }),
        );
        continue;
      }
      if (provider.launches) {
        // Launching providers are not served by this slice of the engine yet.
        this.log.debug('request left for a launching pool (not implemented)', { request: request.id });
        continue;
      }
      // Without reuse a pool that cannot launch has nothing to offer; Nodepool would lock, mark
      // pending and release it again unchanged (DRV:537-547), so skip the round trip.
      if (!request.reuse) continue;
      fulfil ??= await this.snapshot();
      if (!hasFreeNodesFor(request, fulfil)) continue;
      await fulfilFromReadyNodes(request, fulfil).catch((err: unknown) =>
        this.log.error('fulfilling request failed', { request: request.id, err: (err as Error).message }),
      );
    }
  }

  /** Nodes of this provider and pool, and which free-looking ones are locked right now. */
  private async snapshot(): Promise<FulfilContext> {
    const { zk, provider, pool } = this.options;
    const nodes = (await zk.getNodes()).filter((n) => n.provider === provider.name && n.pool === pool.name);
    const locked = new Set<string>();
    for (const node of nodes) {
      if (node.state === 'ready' && !node.allocated_to && node.id && (await zk.isNodeLocked(node.id))) locked.add(node.id);
    }
    return { zk, provider, pool, ownId: this.id, logger: this.log, nodes, locked };
  }

  /**
   * Declines under the request lock, never without it (checklist §7.11): lock without waiting,
   * re-check, add our id once, `failed` when every registered pool declined (spec §4.3).
   */
  private async decline(request: NodeRequest, reason: string, registered: readonly PoolComponentRecord[]): Promise<void> {
    const { zk } = this.options;
    const lock = await zk.lockNodeRequest(request, { blocking: false }).catch((err: unknown) => {
      if (err instanceof NoNodeError) return undefined;
      throw err;
    });
    if (!lock) return;
    try {
      if (request.state !== 'requested' || request.declined_by.includes(this.id)) return;
      applyDecline(request, this.id, registered);
      await zk.storeNodeRequest(request);
      this.log.info(`declined request: ${reason}`, { request: request.id, state: request.state });
    } finally {
      await zk.unlockNodeRequest(request).catch((err: unknown) => this.log.warn('request unlock failed', { err: (err as Error).message }));
    }
  }
}
