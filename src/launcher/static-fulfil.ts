/**
 * Accepting one request by reusing ready nodes (spec §4.4 "Reuse", checklist §7.14-16), for
 * providers that never launch (static). Nothing is ever created here: when the pool cannot
 * serve every label right now the request goes back to `requested` without a decline, as
 * Nodepool does for providers with `PAUSE_AT_QUOTA = False` (DRV:537-547).
 */
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { PoolConfig } from '../plugins/nodepool-config';
import type { Tracer } from '../plugins/tracer';
import { NoNodeError, type ZooKeeper } from '../plugins/zookeeper';
import type { Node } from '../zk/models/node';
import { allocateOne, isFreeNode, releaseNodes } from './node-allocation';
import { requestParentContext, requestSpanAttributes } from './trace-context';

export { isFreeNode } from './node-allocation';
import type { NodeRequest } from '../zk/models/node-request';

/** Outcome of {@link fulfilFromReadyNodes}. */
export type FulfilOutcome = 'fulfilled' | 'not-locked' | 'released' | 'vanished' | 'changed';

/** What {@link fulfilFromReadyNodes} works with. */
export interface FulfilContext {
  zk: ZooKeeper;
  provider: Provider;
  pool: PoolConfig;
  /** Our pool launcher id (for the "already declined by us" re-check). */
  ownId: string;
  logger: Logger;
  /** One `nodepool.request` span per fulfilment that got the request lock. */
  tracer?: Tracer;
  /**
   * This pass's snapshot of candidate nodes. Locking refreshes a node in place and we set
   * `allocated_to` on the same object, so later requests of the pass see what we handed out.
   */
  nodes: Node[];
  /**
   * Ids of nodes not to pick: seen locked at snapshot time, or reserved by a fulfilment of this
   * pass still in flight ({@link reserveNodesFor}), so concurrent fulfilments never race for
   * one node.
   */
  locked: Set<string>;
}

/**
 * Whether the snapshot holds enough free nodes for every label of the request (a multiset
 * check, so `[a, a]` needs two). Cheap pre-check that spares a lock/pending/release round trip.
 */
export function hasFreeNodesFor(request: NodeRequest, ctx: Pick<FulfilContext, 'provider' | 'pool' | 'locked' | 'nodes'>): boolean {
  return pickFreeNodes(request, ctx) !== undefined;
}

function pickFreeNodes(request: NodeRequest, ctx: Pick<FulfilContext, 'provider' | 'pool' | 'locked' | 'nodes'>): Node[] | undefined {
  const used: Node[] = [];
  for (const label of request.node_types) {
    const node = ctx.nodes.find((n) => !used.includes(n) && isFreeNode(n, ctx) && n.type.includes(label));
    if (!node) return undefined;
    used.push(node);
  }
  return used;
}

/**
 * Picks one free node per label (as {@link hasFreeNodesFor}) and reserves them in `ctx.locked`
 * for this request, so fulfilments started later in the pass pick others. A picked node that
 * somebody holds locked is marked so for the rest of the pass and another is picked: locking the
 * request for nodes we cannot have would only flip it to `pending` and back. Undefined (nothing
 * reserved) when the pool cannot serve every label now.
 */
export async function reserveNodesFor(request: NodeRequest, ctx: FulfilContext): Promise<Node[] | undefined> {
  for (;;) {
    const nodes = pickFreeNodes(request, ctx);
    if (!nodes) return undefined;
    // Reserved before the lock checks below, so a concurrent pick cannot take them meanwhile.
    for (const node of nodes) ctx.locked.add(node.id as string);
    const held: Node[] = [];
    for (const node of nodes) if (await ctx.zk.isNodeLocked(node.id as string)) held.push(node);
    if (held.length === 0) return nodes;
    // The held ones stay in `locked` (taken for this pass); the others are free again.
    for (const node of nodes) if (!held.includes(node)) ctx.locked.delete(node.id as string);
  }
}

/**
 * Locks the request without waiting, re-checks it, marks it `pending`, allocates one node per
 * label (liveness check before locking each node) and fulfils it: nodes unlocked, then the
 * request stored `fulfilled`, then its lock released (checklist §7.15, exactly this order).
 */
export async function fulfilFromReadyNodes(request: NodeRequest, ctx: FulfilContext, reserved: readonly Node[] = []): Promise<FulfilOutcome> {
  const started = Date.now();
  try {
    const outcome = await fulfil(request, ctx, reserved);
    // Only a request we took in hand is "handled"; a miss on the lock is someone else's.
    if (ctx.tracer && outcome !== 'not-locked' && outcome !== 'changed') {
      ctx.tracer.startSpan('nodepool.request', { attributes: { ...requestSpanAttributes(request, ctx.ownId), 'nodepool.request.outcome': outcome }, startTime: started }, requestParentContext(request)).end();
    }
    return outcome;
  } finally {
    for (const node of reserved) ctx.locked.delete(node.id as string);
  }
}

async function fulfil(request: NodeRequest, ctx: FulfilContext, reserved: readonly Node[]): Promise<FulfilOutcome> {
  const { zk, logger } = ctx;
  const log = logger.child({ request: request.id });
  const lock = await zk.lockNodeRequest(request, { blocking: false }).catch((err: unknown) => {
    // Deleted by its requestor between our read and the lock: nothing to do.
    if (err instanceof NoNodeError) return undefined;
    throw err;
  });
  if (!lock) return 'not-locked';
  const chosen: Node[] = [];
  try {
    // lockNodeRequest re-read the request: decide on what is there now (LCH:268-288).
    if (request.state !== 'requested' || request.declined_by.includes(ctx.ownId)) return 'changed';
    request.state = 'pending';
    await zk.storeNodeRequest(request);

    if (request.reuse) {
      // Our reserved nodes first, then anything else still free. Views, not copies: eight
      // fulfilments in flight each copying a 10 000-node snapshot was a large share of the
      // launcher's garbage at scale.
      const candidates = {
        ...ctx,
        nodes: reservedFirst(reserved, ctx.nodes),
        locked: { has: (id: string): boolean => ctx.locked.has(id) && !reserved.some((n) => n.id === id) },
      };
      for (const label of request.node_types) {
        const node = await allocateOne(request, label, chosen, candidates, log);
        if (!node) break;
        chosen.push(node);
      }
    }

    if (chosen.length < request.node_types.length) {
      await releaseNodes(chosen.splice(0), zk, true, log);
      request.state = 'requested';
      await zk.storeNodeRequest(request);
      log.debug('no free node for every label; request released without declining');
      return 'released';
    }

    // Zuul may have cancelled (deleted) the request while we gathered nodes (DRV:760-768).
    if (!(await zk.getNodeRequest(request.id as string))) {
      await releaseNodes(chosen.splice(0), zk, true, log);
      log.info('request vanished while being fulfilled; nodes de-allocated');
      return 'vanished';
    }
    // Index-aligned with node_types: chosen[i] was picked for node_types[i].
    const ids = chosen.map((n) => n.id as string);
    await releaseNodes(chosen.splice(0), zk, false, log);
    request.nodes = ids;
    request.state = 'fulfilled';
    await zk.storeNodeRequest(request);
    log.info('request fulfilled', { nodes: request.nodes });
    return 'fulfilled';
  } catch (err) {
    // Leave no node locked behind (`chosen` only holds nodes we still lock); a half-done request
    // is recovered by the cleanup worker's lost-request pass once our request lock is gone.
    await releaseNodes(chosen.splice(0), zk, true, log);
    if (err instanceof NoNodeError) return 'vanished';
    throw err;
  } finally {
    await zk.unlockNodeRequest(request).catch((err: unknown) => log.warn('request unlock failed', { err: (err as Error).message }));
  }
}

/**
 * `reserved`, then the other `nodes`, without building the combined list. An iterable, not a
 * generator: it is walked once per label.
 */
function reservedFirst(reserved: readonly Node[], nodes: readonly Node[]): Iterable<Node> {
  return {
    *[Symbol.iterator](): Generator<Node> {
      yield* reserved;
      for (const node of nodes) if (!reserved.includes(node)) yield node;
    },
  };
}
