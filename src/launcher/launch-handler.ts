/**
 * The request handler of launching pools (spec §4.4, DRV:368-787): with the request locked and
 * `pending`, give each requested label a node, reusing a ready one when the request allows it
 * and launching one otherwise; pause at quota; when every launch has ended, fulfil the request
 * or decline it. The pool worker calls {@link LaunchHandler.poll} until it reports done.
 */
import { trace, type Context, type Span } from '@opentelemetry/api';
import { applyDecline } from './assign-decision';
import { MIN_READY_REQUESTOR } from './cleanup/min-ready';
import { allocateOne, initNodeFor, releaseNodes } from './node-allocation';
import { hasRemainingQuota } from './quota-check';
import { requestParentContext, requestSpanAttributes } from './trace-context';
import type { Logger } from '../plugins/logger';
import { FALLBACK_LAUNCH_SETTINGS } from '../plugins/launch-settings-defaults';
import { NodeLauncher, type LaunchResult } from '../plugins/node-launcher';
import { StateMachineCancelledError } from '../plugins/run-state-machine';
import type { ZooKeeperLock } from '../plugins/zookeeper';
import type { PoolComponentRecord } from '../zk/models/component';
import { Node } from '../zk/models/node';
import type { InstantContext } from './instant-fulfil';
import type { NodeRequest } from '../zk/models/node-request';

/** What a {@link LaunchHandler} works with: an instant launch's context (`ownId` also goes into `declined_by`), and: */
export interface LaunchHandlerContext extends InstantContext {
  /** The registered pools, read when declining (for the "everyone declined" rule). */
  registeredPools: () => Promise<readonly PoolComponentRecord[]>;
  /** Called when a launch ends, so the pool worker polls soon. */
  wake: () => void;
  /** NodeLauncher poll interval, ms (tests shorten it). */
  launchPollMs?: number;
}

/** A launch that ended with an exception rather than a stored outcome. */
type Outcome = LaunchResult | { state: 'error'; error: Error };

/** Why a request is declined from inside the handler. */
class DeclineRequest extends Error {}

/** See the module comment. One handler per accepted request. */
export class LaunchHandler {
  /** `slots[i]` is the node for `request.node_types[i]` (locked by us), once it has one. */
  private readonly slots: (Node | undefined)[];
  private readonly launches = new Map<Node, Promise<void>>();
  private readonly outcomes = new Map<Node, Outcome>();
  private readonly log: Logger;
  private readonly span: Span | undefined;
  /** Context of the request span: node launches are its children. */
  private readonly spanContext: Context;
  private az: string | null = null;
  /** Waiting for quota: the pool reports itself paused while any handler is. */
  paused = false;
  /** The request is fulfilled, declined or gone and its lock released. */
  done = false;
  /**
   * Our request lock went with the ZooKeeper session. From then on the request is not ours: the
   * lost-request cleanup (ours or another launcher's) resets it and someone else may already be
   * working on it, so we must never write it again (a late `fulfilled` would hand nodes the new
   * owner does not know about, or overwrite its work).
   */
  private lockLost = false;
  private offLost: (() => void) | undefined;

  /** @param request locked by the caller, re-read under the lock, still `requested` */
  constructor(readonly request: NodeRequest, private readonly ctx: LaunchHandlerContext) {
    this.slots = request.node_types.map(() => undefined);
    // Zuul's span (requestor_data.span_info) is the parent; see trace-context.ts.
    const parent = requestParentContext(request);
    this.log = ctx.logger.child({ request: request.id, trace_id: trace.getSpanContext(parent)?.traceId });
    this.span = ctx.tracer?.startSpan('nodepool.request', { attributes: requestSpanAttributes(request, ctx.ownId) }, parent);
    this.spanContext = this.span ? trace.setSpan(parent, this.span) : parent;
  }

  /** Nodes this handler holds (for the pool's label-quota bookkeeping and tests). */
  get nodes(): Node[] {
    return this.slots.filter((n): n is Node => n !== undefined);
  }

  /** Marks the request `pending` and starts gathering nodes (DRV:605-630). */
  async run(lock?: ZooKeeperLock): Promise<void> {
    this.offLost = lock?.onLost(() => {
      this.lockLost = true;
      this.ctx.wake();
    });
    try {
      this.request.state = 'pending';
      await this.ctx.zk.storeNodeRequest(this.request);
      this.log.info('request accepted', { labels: this.request.node_types });
      await this.fill();
    } catch (err) {
      await this.decline(err instanceof DeclineRequest ? err.message : `error handling request: ${(err as Error).message}`);
    }
  }

  /**
   * Advances the handler: a paused one tries to gather its missing nodes again; once every
   * launch has ended it fulfils or declines. True when done.
   */
  async poll(): Promise<boolean> {
    if (this.done) return true;
    if (this.lockLost) {
      // Launches still running end on their own (their node locks went too); waiting for them
      // here would hold up the pool worker's whole pass.
      if (this.launches.size > 0) return false;
      await this.dropLost();
      return true;
    }
    try {
      if (this.paused) {
        await this.fill();
        if (this.paused) return false;
      }
      if (this.launches.size > 0) return false;
      // Launches the cloud refused for quota give their label back and the handler pauses.
      let requeued = false;
      let failed = false;
      for (const [i, node] of this.slots.entries()) {
        if (!node) continue;
        const outcome = this.outcomes.get(node);
        if (!outcome) continue; // reused node
        if (outcome.state === 'ready') continue;
        if (outcome.state === 'aborted') {
          this.slots[i] = undefined;
          this.outcomes.delete(node);
          await this.ctx.zk.unlockNode(node).catch(() => undefined);
          requeued = true;
          continue;
        }
        failed = true;
      }
      if (requeued && !failed) {
        this.ctx.runtime.invalidateQuota();
        this.paused = true;
        this.log.info('launch refused for quota: waiting for capacity');
        return false;
      }
      if (this.slots.some((n) => !n)) {
        await this.fill();
        return false;
      }
      if (failed) {
        await this.decline('a node launch failed');
        return true;
      }
      await this.fulfil();
    } catch (err) {
      await this.decline(`error handling request: ${(err as Error).message}`);
    }
    return this.done;
  }

  /**
   * Gives up on shutdown: cancelled launches leave their nodes `building` for a deleted-node
   * worker (which resumes them when it can), ready nodes go back to the pool and the request back
   * to `requested` for another launcher, at once rather than after the lost-request cleanup, unless
   * a launch is to be resumed.
   */
  async abandon(): Promise<void> {
    if (this.done) return;
    await Promise.all(this.launches.values());
    const nodes = this.nodes;
    const reusable = nodes.filter((n) => n.state === 'ready');
    await releaseNodes(reusable, this.ctx.zk, true, this.log);
    for (const node of nodes) if (!reusable.includes(node)) await this.ctx.zk.unlockNode(node).catch(() => undefined);
    // A launch cut short that another launcher resumes (launch-resume.ts): the request stays
    // `pending`, unlocked, and the lost-request reset hands it on once that node is ready;
    // re-running it now would launch a second server beside the resumed one.
    const resumable = this.ctx.runtime.provider.resumeCreateStateMachine !== undefined
      && nodes.some((n) => n.state === 'building' && n.nodepool_ts_launch);
    // Not ours any more when the lock went with the session (see lockLost).
    if (!this.lockLost && !resumable) {
      try {
        this.request.state = 'requested';
        this.request.nodes = [];
        await this.ctx.zk.storeNodeRequest(this.request);
      } catch {
        // Gone already, or the session with it: the lost-request cleanup covers the rest.
      }
    }
    await this.finish('abandoned');
  }

  /**
   * The request lock is gone (see {@link lockLost}): wait for our launches, let go of the node
   * locks still held (the node locks were ephemeral too, so usually none) and forget the request
   * without writing it. Nodes allocated to it are de-allocated by the lost-request reset; nodes
   * left `building` are reaped by a deleted-node worker of this provider.
   */
  private async dropLost(): Promise<void> {
    await Promise.all(this.launches.values());
    for (const node of this.nodes) await this.ctx.zk.unlockNode(node).catch(() => undefined);
    this.slots.fill(undefined);
    this.log.warn('request lock lost with the ZooKeeper session: leaving the request to the lost-request cleanup');
    await this.finish('lock lost');
  }

  /** `_waitForNodeSet` (DRV:436-583) over the labels that have no node yet. */
  private async fill(): Promise<void> {
    const { zk, runtime, pool } = this.ctx;
    const provider = runtime.provider;
    const missing = this.slots.map((n, i) => (n ? -1 : i)).filter((i) => i >= 0);
    if (missing.length === 0) {
      this.paused = false;
      return;
    }
    // Reuse, quota and the oldest unused node all look at this provider's nodes only.
    let nodes = await zk.getNodes(undefined, { providers: new Set([provider.name]) });
    const locked = new Set<string>();
    for (const i of missing) {
      const label = this.request.node_types[i];
      if (this.request.reuse) {
        const reused = await allocateOne(this.request, label, this.nodes, { zk, provider, pool, nodes, locked }, this.log, (n) => !this.az || !n.az || n.az === this.az);
        if (reused) {
          this.slots[i] = reused;
          this.az ??= reused.az;
          this.log.info('reusing ready node', { node: reused.id, label });
          continue;
        }
      }
      const ourIds = new Set(nodes.filter((n) => n.provider === provider.name && n.id).map((n) => n.id as string));
      const cloudAvailable = await runtime.available(ourIds);
      if (!hasRemainingQuota({ provider, pool, label, nodes, cloudAvailable })) {
        if (this.request.requestor === MIN_READY_REQUESTOR) throw new DeclineRequest('at quota: min-ready request declined');
        if (!this.paused) this.log.info('pool at quota: pausing request', { label });
        this.paused = true;
        await this.deleteOldestUnusedNode(nodes);
        return;
      }
      const node = await this.launch(label);
      nodes = [...nodes, node];
      this.slots[i] = node;
    }
    this.paused = false;
  }

  /** Creates the node (`init`, stored, locked, `building`) and starts its launch (DRV:553-583). */
  private async launch(label: string): Promise<Node> {
    const { zk, runtime, pool, ownId } = this.ctx;
    const provider = runtime.provider;
    if (!this.az) this.az = await this.chooseAz();
    const node = initNodeFor(this.request, label, provider.name, pool, ownId);
    node.az = this.az;
    await zk.storeNode(node);
    const lock = await zk.lockNode(node, { blocking: false }).catch((err: unknown) => {
      this.log.warn('cannot lock node we just created', { node: node.id, err: (err as Error).message });
      return undefined;
    });
    if (!lock) {
      // Never launched: give it up now (the orphaned-init cleanup catches it if this write fails too).
      node.state = 'deleting';
      await zk.storeNode(node).catch(() => undefined);
      throw new Error(`cannot lock node ${node.id} we just created`);
    }
    try {
      node.state = 'building';
      await zk.storeNode(node);
    } catch (err) {
      await this.dropUnlaunched(node);
      throw err;
    }
    const settings = provider.launchSettings?.(label, pool) ?? FALLBACK_LAUNCH_SETTINGS;
    const started = Date.now();
    const launcher = new NodeLauncher({
      zk, provider, node, label, pool, settings, logger: this.log, tracer: this.ctx.tracer, traceContext: this.spanContext,
      az: this.az, pollInterval: this.ctx.launchPollMs, signal: runtime.abort.signal,
      onAttemptFailed: (result, durationMs) => this.ctx.stats?.launchAttemptFailed({
        provider: provider.name, pool: pool.name, label, az: this.az, requestor: this.request.requestor, result, attempts: 1, durationMs,
      }),
    });
    runtime.activeLaunches++;
    this.log.info('launching node', { node: node.id, label });
    const ended = (result: string, attempts: number): void => this.ctx.stats?.launchEnded({
      provider: provider.name, pool: pool.name, label, az: this.az, requestor: this.request.requestor,
      result, attempts, durationMs: Date.now() - started,
    });
    const run = launcher.run().then(
      (result) => {
        this.outcomes.set(node, result);
        ended(result.statsKey, result.attempts);
      },
      (error: unknown) => {
        this.outcomes.set(node, { state: 'error', error: error as Error });
        // A launch cancelled by a stop is not an outcome: another launcher finishes the request.
        if (!(error instanceof StateMachineCancelledError)) ended('error.unknown', 0);
      },
    ).finally(() => {
      runtime.activeLaunches--;
      this.launches.delete(node);
      this.ctx.wake();
    });
    this.launches.set(node, run);
    return node;
  }

  /**
   * A node we created and locked but could not start (storing `building` failed, e.g. on a lost
   * connection): it is in no slot yet, so no decline or abandon would unlock it. Left locked, it
   * would stay so for as long as our session lives, which survives a connection blip or a
   * ZooKeeper restart, and nobody could ever clean it up. Marked `deleting` (best effort: an
   * `init` node is not a deleted-node worker's to take) and unlocked, it is deleted.
   */
  private async dropUnlaunched(node: Node): Promise<void> {
    const { zk } = this.ctx;
    node.state = 'deleting';
    await zk.storeNode(node).catch((err: unknown) => this.log.warn('cannot mark unlaunched node deleting', { node: node.id, err: (err as Error).message }));
    await zk.unlockNode(node).catch((err: unknown) => this.log.warn('cannot unlock unlaunched node', { node: node.id, err: (err as Error).message }));
  }

  /** Random pick from the pool's `azs`, else from the provider's zones (SM:636-643). */
  private async chooseAz(): Promise<string | null> {
    // `availability-zones` is Nodepool's pool key (openstack and drivers built on it); `azs` the fake driver's.
    const configured = this.ctx.pool.raw['availability-zones'] ?? this.ctx.pool.raw.azs;
    let azs = Array.isArray(configured) ? (configured as string[]) : [];
    if (azs.length === 0 && this.ctx.runtime.provider.getAvailabilityZones) {
      azs = await this.ctx.runtime.provider.getAvailabilityZones().catch(() => []);
    }
    return azs.length ? azs[Math.floor(Math.random() * azs.length)] : null;
  }

  /**
   * At quota, make room (ZK:2754-2818): the oldest ready, unallocated node of this pool that we
   * can lock is marked `deleting`, so a request that needs a different label is not starved by
   * idle ready nodes.
   */
  private async deleteOldestUnusedNode(nodes: readonly Node[]): Promise<void> {
    const { zk, runtime, pool } = this.ctx;
    const idle = nodes
      .filter((n) => n.provider === runtime.provider.name && n.pool === pool.name && n.state === 'ready' && !n.allocated_to && n.id)
      .sort((a, b) => a.state_time - b.state_time);
    for (const node of idle) {
      if (await zk.isNodeLocked(node.id as string)) continue;
      if (!(await zk.lockNode(node, { blocking: false }).catch(() => undefined))) continue;
      try {
        if (node.state !== 'ready' || node.allocated_to) continue;
        node.state = 'deleting';
        await zk.storeNode(node);
        this.log.info('at quota: deleting oldest unused node', { node: node.id });
        return;
      } finally {
        await zk.unlockNode(node).catch(() => undefined);
      }
    }
  }

  /** Nodes unlocked, then the request stored `fulfilled`, then its lock released (DRV:784-786). */
  private async fulfil(): Promise<void> {
    const { zk } = this.ctx;
    const nodes = this.slots as Node[];
    if (this.lockLost) return this.dropLost();
    if (!(await zk.getNodeRequest(this.request.id as string))) {
      // Cancelled by the requestor while we launched: the nodes go back to the pool.
      await releaseNodes(nodes, zk, true, this.log);
      this.log.info('request vanished while being handled; nodes de-allocated');
      await this.finish('vanished');
      return;
    }
    await releaseNodes(nodes, zk, false, this.log);
    this.request.nodes = nodes.map((n) => n.id as string);
    this.request.state = 'fulfilled';
    await zk.storeNodeRequest(this.request);
    this.log.info('request fulfilled', { nodes: this.request.nodes });
    await this.finish('fulfilled');
  }

  /**
   * Declines (DRV:632-699): running launches are awaited, ready nodes de-allocated and unlocked
   * (back to the pool), failed ones unlocked for the deleter; our id added to `declined_by` and
   * the request failed when every registered pool has declined.
   */
  private async decline(reason: string): Promise<void> {
    const { zk } = this.ctx;
    if (this.lockLost) return this.dropLost();
    await Promise.all(this.launches.values());
    const nodes = this.nodes;
    const ready = nodes.filter((n) => n.state === 'ready');
    await releaseNodes(ready, zk, true, this.log);
    for (const node of nodes) if (!ready.includes(node)) await zk.unlockNode(node).catch(() => undefined);
    this.slots.fill(undefined);
    try {
      if (await zk.getNodeRequest(this.request.id as string)) {
        applyDecline(this.request, this.ctx.ownId, await this.ctx.registeredPools());
        this.request.nodes = [];
        await zk.storeNodeRequest(this.request);
        this.log.info(`declined request: ${reason}`, { state: this.request.state });
      }
    } catch (err) {
      this.log.error('declining request failed', { err: (err as Error).message });
    }
    await this.finish(`declined: ${reason}`);
  }

  private async finish(outcome: string): Promise<void> {
    this.done = true;
    this.paused = false;
    this.offLost?.();
    await this.ctx.zk.unlockNodeRequest(this.request).catch((err: unknown) => this.log.warn('request unlock failed', { err: (err as Error).message }));
    this.span?.setAttribute('nodepool.request.outcome', outcome);
    this.span?.end();
  }
}
