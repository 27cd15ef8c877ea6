/**
 * Instant launches of one pool pass ({@link Provider.beginInstantLaunches}): for a request whose
 * every label the provider can hand out at once, the nodes are created (`init`, unlocked, for the
 * few milliseconds until the transaction) and the request is fulfilled by one transaction that
 * writes them `ready` with their instances, claims the request as a fulfilment from ready nodes
 * does (static-fulfil.ts) and makes the provider's checks. No request lock, `pending`, create
 * machine, per-step store or unlock: what a launch would write, in two round trips. A request the
 * provider cannot serve whole right now goes to the launch handler as before.
 */
import type { Provider } from '../plugins/driver';
import type { InstantLaunchBatch, InstantReservation } from '../plugins/instant-launch';
import { FALLBACK_LAUNCH_SETTINGS } from '../plugins/launch-settings-defaults';
import { applyInstance, prepareLaunchedNode } from '../plugins/launched-node';
import { leakTags } from '../plugins/leak-tags';
import type { Logger } from '../plugins/logger';
import type { PoolConfig } from '../plugins/nodepool-config';
import type { Tracer } from '../plugins/tracer';
import { ZkError, type ZooKeeper } from '../plugins/zookeeper';
import { Node } from '../zk/models/node';
import type { NodeRequest } from '../zk/models/node-request';
import type { EngineStats } from './engine-stats';
import { initNodeFor, isFreeNode } from './node-allocation';
import type { ProviderRuntime } from './provider-runtime';
import { hasRemainingQuota } from './quota-check';
import { fulfilWithNewNodes } from './static-fulfil';
import { requestParentContext, requestSpanAttributes } from './trace-context';

/** Instant fulfilments of one pass in flight at once (as static's). */
const PARALLEL = 32;
const NONE: ReadonlySet<string> = new Set();

/** What an {@link InstantPass} works with. */
export interface InstantContext {
  zk: ZooKeeper;
  runtime: ProviderRuntime;
  pool: PoolConfig;
  /** Our pool launcher id (`node.launcher`). */
  ownId: string;
  logger: Logger;
  tracer?: Tracer;
  stats?: EngineStats;
}

/** See the module comment. One per pass; {@link end} it when the pass is over. */
export class InstantPass {
  /** null: the provider had nothing instant this pass (not asked again). */
  private batch: InstantLaunchBatch | null | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Nodes of this pass's fulfilments, counted against quota until the cache has them. */
  private readonly planned: Node[] = [];

  constructor(private readonly ctx: InstantContext) {}

  /**
   * Starts fulfilling `request` instantly (it runs beside the rest of the pass), or leaves it for
   * a later pass when the provider says an instance is about to be free: true in both cases;
   * false to leave it to the launch handler. `nodes`: the pass's snapshot of every node.
   */
  async start(request: NodeRequest, nodes: readonly Node[]): Promise<boolean> {
    const { runtime, pool } = this.ctx;
    const provider = runtime.provider;
    if (!provider.beginInstantLaunches || this.batch === null) return false;
    // A free ready node is reused the usual way (the launch handler prefers it to a new one).
    if (request.reuse && nodes.some((n) => isFreeNode(n, { provider, pool, locked: NONE }) && request.node_types.some((l) => n.type.includes(l)))) return false;
    const planned = await this.quotaAllows(request, nodes);
    if (!planned) return false;
    try {
      if (this.batch === undefined) this.batch = (await provider.beginInstantLaunches(pool)) ?? null;
      if (this.batch === null) return false;
      const reservations: InstantReservation[] = [];
      for (const label of request.node_types) {
        const got = await this.batch.reserve(label);
        if (!got || got === 'later') {
          for (const r of reservations) r.release();
          return got === 'later';
        }
        reservations.push(got);
      }
      this.planned.push(...planned);
      const run: Promise<void> = this.fulfil(request, planned, reservations)
        .catch((err: unknown) => this.ctx.logger.error('instant fulfilment failed', { request: request.id, err: (err as Error).message }))
        .finally(() => this.inflight.delete(run));
      this.inflight.add(run);
      if (this.inflight.size >= PARALLEL) await Promise.race(this.inflight);
      return true;
    } catch (err) {
      // E.g. the provider's allocation lock not had in time: not asked again this pass.
      if (this.batch === undefined) this.batch = null;
      this.ctx.logger.warn('instant launch not possible', { request: request.id, err: (err as Error).message });
      return false;
    }
  }

  /** Waits for the fulfilments in flight and ends the provider's batch. */
  async end(): Promise<void> {
    await Promise.all(this.inflight);
    const batch = this.batch;
    this.batch = null;
    await batch?.end().catch((err: unknown) => this.ctx.logger.warn('ending instant launches failed', { err: (err as Error).message }));
  }

  /**
   * The request's new nodes (not stored yet) when the quota has room for all of them, as the
   * launch handler checks it before each launch; undefined otherwise.
   */
  private async quotaAllows(request: NodeRequest, nodes: readonly Node[]): Promise<Node[] | undefined> {
    const { runtime, pool, ownId } = this.ctx;
    const provider = runtime.provider;
    const ids = new Set(nodes.map((n) => n.id));
    const counted = [...nodes, ...this.planned.filter((n) => !n.id || !ids.has(n.id))];
    const cloudAvailable = await runtime.available(new Set(counted.filter((n) => n.provider === provider.name && n.id).map((n) => n.id as string)));
    const fresh: Node[] = [];
    for (const label of request.node_types) {
      if (!hasRemainingQuota({ provider, pool, label, nodes: [...counted, ...fresh], cloudAvailable })) return undefined;
      fresh.push(initNodeFor(request, label, provider.name, pool, ownId));
    }
    return fresh;
  }

  /** Creates the nodes, then one transaction; on any other outcome the nodes are removed. */
  private async fulfil(request: NodeRequest, nodes: Node[], reservations: InstantReservation[]): Promise<void> {
    const { zk, runtime, pool, ownId, logger } = this.ctx;
    const provider = runtime.provider;
    const log = logger.child({ request: request.id });
    const started = Date.now();
    const created: Node[] = [];
    let outcome = 'error';
    let failedCheck: string | undefined;
    try {
      for (const node of nodes) created.push(await zk.createNode(node));
      nodes.forEach((node, i) => readyNode(node, provider, pool, reservations[i], request));
      const checks = reservations.flatMap((r) => r.checks);
      try {
        outcome = await fulfilWithNewNodes(request, nodes, { zk, ownId, logger: log }, checks);
      } catch (err) {
        const path = err instanceof ZkError ? err.path : undefined;
        if (!path || !checks.some((c) => c.path === path)) throw err;
        failedCheck = path;
        outcome = 'check-failed';
        log.info('instant launch: a reserved instance failed its check; the request waits for the next pass', { path });
      }
    } finally {
      // After an error the transaction may still have committed (a reply lost with the
      // connection): the reservations are then kept for the rest of the batch, and the removal
      // below fails on the node's version, leaving a fulfilled node alone.
      if (outcome !== 'fulfilled' && outcome !== 'error') {
        for (const r of reservations) r.release(r.checks.some((c) => c.path === failedCheck) ? failedCheck : undefined);
        this.planned.splice(0, this.planned.length, ...this.planned.filter((n) => !nodes.includes(n)));
      }
      if (outcome !== 'fulfilled') for (const node of created) await this.remove(node, log);
    }
    if (outcome !== 'fulfilled') return;
    log.info('request fulfilled by instant launch', { nodes: request.nodes });
    const durationMs = Date.now() - started;
    for (const node of nodes) {
      this.ctx.stats?.launchEnded({
        provider: provider.name, pool: pool.name, label: node.type[0], az: node.az, requestor: request.requestor, result: 'ready', attempts: 1, durationMs,
      });
    }
    this.ctx.tracer?.startSpan('nodepool.request', {
      attributes: { ...requestSpanAttributes(request, ownId), 'nodepool.request.outcome': 'fulfilled', 'nodepool.request.instant': 'true' }, startTime: started,
    }, requestParentContext(request)).end();
  }

  /** A node of an instant launch that did not happen: gone at once (the orphaned-init cleanup otherwise). */
  private async remove(node: Node, log: Logger): Promise<void> {
    const outcome = await this.ctx.zk.deleteUnlockedNode(node).catch((err: unknown) => (err as Error).message);
    if (outcome !== 'deleted' && outcome !== 'gone') log.warn('could not remove the node of an instant launch; the cleanup will', { node: node.id, outcome });
  }
}

/** Writes what a completed launch would onto a created node: its instance, `ready`. */
function readyNode(node: Node, provider: Provider, pool: PoolConfig, reservation: InstantReservation, request: NodeRequest): void {
  const label = node.type[0];
  const settings = provider.launchSettings?.(label, pool) ?? FALLBACK_LAUNCH_SETTINGS;
  prepareLaunchedNode(node, provider, pool, label, settings);
  const id = node.id as string;
  applyInstance(node, reservation.instance({
    hostname: `np${id}`, label, pool: pool.name, imageExternalId: settings.imageExternalId ?? null,
    metadata: leakTags(id, pool.name, provider.name), nodeId: id, requestId: request.id, az: node.az,
  }));
  node.state = 'ready';
  node.nodepool_ts_launch = null;
}
