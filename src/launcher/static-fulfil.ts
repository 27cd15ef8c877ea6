/**
 * Accepting one request by reusing ready nodes (spec §4.4 "Reuse", checklist §7.14-16), for
 * providers that never launch (static). Nothing is ever created here: when the pool cannot
 * serve every label right now the request goes back to `requested` without a decline, as
 * Nodepool does for providers with `PAUSE_AT_QUOTA = False` (DRV:537-547).
 */
import type { Provider } from '../plugins/driver';
import type { ZnodeCheck } from '../plugins/instant-launch';
import type { Logger } from '../plugins/logger';
import type { PoolConfig } from '../plugins/nodepool-config';
import type { Tracer } from '../plugins/tracer';
import { BadVersionError, NoNodeError, ZkError, type ZooKeeper } from '../plugins/zookeeper';
import type { Node } from '../zk/models/node';
import { isFreeNode } from './node-allocation';
import { nodeLockPath, nodePath, requestLockPath, requestPath } from '../zk/nodepool-paths';
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
 * Nodes of this provider and pool from the cache. Lock state is not read here (that would be
 * one ZooKeeper read per ready node per pass): the allocation checks each candidate's lock
 * right before taking it, and a node locked by someone else is simply passed over.
 */
export async function poolFulfilContext(ctx: Omit<FulfilContext, 'nodes' | 'locked'>): Promise<FulfilContext> {
  const { zk, provider, pool } = ctx;
  const nodes = await zk.getNodes((n) => n.pool === pool.name, { providers: new Set([provider.name]) });
  return { ...ctx, nodes, locked: new Set<string>() };
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
 * for this request, so fulfilments started later in the pass pick others. Nothing is read here:
 * the fulfilment locks the nodes before it touches the request, and a node somebody holds is
 * then passed over. Undefined (nothing reserved) when the pool cannot serve every label now.
 */
export function reserveNodesFor(request: NodeRequest, ctx: FulfilContext): Node[] | undefined {
  const nodes = pickFreeNodes(request, ctx);
  if (!nodes) return undefined;
  for (const node of nodes) ctx.locked.add(node.id as string);
  return nodes;
}

/**
 * Fulfils the request from ready nodes in one transaction (`ZooKeeper.fulfilNodeRequest`):
 * nodes allocated, request `fulfilled`, and every lock involved checked free at that instant
 * and left free (checklist §7.15 with no intermediate state). Neither the nodes nor, in the
 * usual case, the request are locked on their own: the transaction claims the request's lock
 * dir and checks the nodes' lock dirs, and its version checks stand in for the re-reads after
 * locking. A node found held or changed is passed over for another (the reserved ones first;
 * liveness checked before each is used). A request locked before, or changed since the cache
 * saw it, is locked and re-read the Nodepool way (LCH:268-288) and fulfilled the same way.
 */
export async function fulfilFromReadyNodes(request: NodeRequest, ctx: FulfilContext, reserved: readonly Node[] = []): Promise<FulfilOutcome> {
  const started = Date.now();
  // Ids this fulfilment added to ctx.locked; those found held by somebody stay there for the pass.
  const taken = new Set(reserved.map((n) => n.id as string));
  const unavailable = new Set<string>();
  try {
    const outcome = await fulfil(request, ctx, reserved, taken, unavailable);
    // Only a request we took in hand is "handled"; a miss on the lock is someone else's.
    if (ctx.tracer && outcome !== 'not-locked' && outcome !== 'changed') {
      ctx.tracer.startSpan('nodepool.request', { attributes: { ...requestSpanAttributes(request, ctx.ownId), 'nodepool.request.outcome': outcome }, startTime: started }, requestParentContext(request)).end();
    }
    return outcome;
  } finally {
    for (const id of taken) if (!unavailable.has(id)) ctx.locked.delete(id);
  }
}

/** Node choices tried per request before it is left for a later pass. */
const MAX_PICKS = 4;

async function fulfil(request: NodeRequest, ctx: FulfilContext, reserved: readonly Node[], taken: Set<string>, unavailable: Set<string>): Promise<FulfilOutcome> {
  const log = ctx.logger.child({ request: request.id });
  if (!request.reuse) return 'released';
  let outcome: FulfilOutcome | 'retry-locked' | 'node-busy' = 'released';
  for (let pick = 0; pick < MAX_PICKS; pick++) {
    const chosen = await pickNodesFor(request, ctx, reserved, taken, unavailable);
    if (!chosen) {
      log.debug('no free node for every label; request left as it is');
      return 'released';
    }
    outcome = await commit(request, chosen, ctx, true, unavailable);
    if (outcome === 'retry-locked') outcome = await commitLocked(request, chosen, ctx, unavailable);
    if (outcome !== 'node-busy') break;
  }
  if (outcome === 'fulfilled') log.info('request fulfilled', { nodes: request.nodes });
  else if (outcome === 'vanished') log.info('request vanished before it was fulfilled');
  return outcome === 'node-busy' ? 'released' : outcome;
}

/** One usable free node per label, the reserved ones first; undefined when short. */
async function pickNodesFor(request: NodeRequest, ctx: FulfilContext, reserved: readonly Node[], taken: Set<string>, unavailable: Set<string>): Promise<Node[] | undefined> {
  const { provider } = ctx;
  const chosen: Node[] = [];
  for (const label of request.node_types) {
    let got: Node | undefined;
    for (const node of reservedFirst(reserved, ctx.nodes)) {
      const id = node.id as string;
      if (chosen.includes(node) || unavailable.has(id) || !node.type.includes(label)) continue;
      if (node.state !== 'ready' || node.allocated_to || node.provider !== provider.name || node.pool !== ctx.pool.name) continue;
      if (!taken.has(id)) {
        // Reserved by a fulfilment running beside this one.
        if (ctx.locked.has(id)) continue;
        ctx.locked.add(id);
        taken.add(id);
      }
      // The static provider deregisters a dead host here (under the node lock, so before ours).
      if (provider.isNodeUsable && !(await provider.isNodeUsable(node))) {
        unavailable.add(id);
        continue;
      }
      got = node;
      break;
    }
    if (!got) return undefined;
    chosen.push(got);
  }
  return chosen;
}

/**
 * Writes the fulfilment in one transaction; `claim` when the request is not locked by us.
 * 'retry-locked' when it needs the lock-and-re-read way; 'node-busy' when a node was held or
 * changed (it is then in `unavailable`, and another may be picked).
 */
async function commit(
  request: NodeRequest, chosen: readonly Node[], ctx: CommitContext, claim: boolean, unavailable: Set<string>, checks?: readonly ZnodeCheck[],
): Promise<FulfilOutcome | 'retry-locked' | 'node-busy'> {
  const id = request.id as string;
  const undo = allocate(request, chosen);
  try {
    await ctx.zk.fulfilNodeRequest(request, chosen, { claimLock: claim, checks });
    return 'fulfilled';
  } catch (err) {
    undo();
    if (!(err instanceof ZkError)) throw err;
    // Somebody locked the request at some point (another launcher, Zuul revising it, a decline).
    if (claim && err.path === requestLockPath(id)) return 'retry-locked';
    if (err.path === requestPath(id)) {
      if (err instanceof NoNodeError) return 'vanished';
      // Changed since the cache saw it: decide again on what is there, under the lock.
      if (claim && err instanceof BadVersionError) return 'retry-locked';
      return 'changed';
    }
    // A node held (its lock dir not empty), changed since the snapshot, or gone.
    const node = chosen.find((n) => err.path === nodePath(n.id as string) || err.path === nodeLockPath(n.id as string));
    if (node) {
      unavailable.add(node.id as string);
      return 'node-busy';
    }
    throw err;
  }
}

/** Nodepool's way: lock the request without waiting, re-read, re-check, then the same write. */
async function commitLocked(
  request: NodeRequest, chosen: readonly Node[], ctx: CommitContext, unavailable: Set<string>, checks?: readonly ZnodeCheck[],
): Promise<FulfilOutcome | 'node-busy'> {
  const { zk } = ctx;
  const lock = await zk.lockNodeRequest(request, { blocking: false }).catch((err: unknown) => {
    // Deleted by its requestor between our read and the lock: nothing to do.
    if (err instanceof NoNodeError) return undefined;
    throw err;
  });
  if (!lock) return 'not-locked';
  let outcome: FulfilOutcome | 'retry-locked' | 'node-busy' = 'changed';
  try {
    // lockNodeRequest re-read the request: decide on what is there now (LCH:268-288).
    if (request.state !== 'requested' || request.declined_by.includes(ctx.ownId)) return 'changed';
    outcome = await commit(request, chosen, ctx, false, unavailable, checks);
    return outcome === 'retry-locked' ? 'changed' : outcome;
  } finally {
    // A committed transaction released the lock with the rest.
    if (outcome !== 'fulfilled') await zk.unlockNodeRequest(request).catch((err: unknown) => ctx.logger.warn('request unlock failed', { request: request.id, err: (err as Error).message }));
  }
}

/** What {@link commit} uses of a {@link FulfilContext}. */
type CommitContext = Pick<FulfilContext, 'zk' | 'ownId' | 'logger'>;

/**
 * Fulfils the request with nodes made for it (an instant launch: created `init`, already carrying
 * their instances and state `ready`), as a fulfilment from ready nodes is written: one
 * transaction that also makes `checks`, claiming the request lock, or the Nodepool way under the
 * lock when somebody locked or changed the request meanwhile. 'node-busy': a node was changed or
 * removed meanwhile. A failed check is thrown (a ZkError whose `path` names it); nothing is
 * written then.
 */
export async function fulfilWithNewNodes(
  request: NodeRequest, nodes: readonly Node[], ctx: CommitContext, checks: readonly ZnodeCheck[],
): Promise<FulfilOutcome | 'node-busy'> {
  const unavailable = new Set<string>();
  const outcome = await commit(request, nodes, ctx, true, unavailable, checks);
  return outcome === 'retry-locked' ? commitLocked(request, nodes, ctx, unavailable, checks) : outcome;
}

/** Sets the fulfilment on the objects (nodes index-aligned with node_types); returns its undo. */
function allocate(request: NodeRequest, chosen: readonly Node[]): () => void {
  const before = { state: request.state, state_time: request.state_time, nodes: request.nodes };
  const nodesBefore = chosen.map((n) => ({ allocated_to: n.allocated_to, tenant_name: n.tenant_name, requestor: n.requestor }));
  for (const node of chosen) {
    node.allocated_to = request.id;
    node.tenant_name = request.tenant_name;
    node.requestor = request.requestor;
  }
  request.nodes = chosen.map((n) => n.id as string);
  request.state = 'fulfilled';
  return () => {
    // Key order matters: the state setter stamps state_time, which is then put back.
    Object.assign(request, before);
    chosen.forEach((node, i) => Object.assign(node, nodesBefore[i]));
  };
}

/**
 * The reserved nodes, then the rest of the snapshot: a view, not a copy. Many fulfilments in
 * flight each copying a 10 000-node snapshot was a large share of the launcher's garbage.
 */
function* reservedFirst(reserved: readonly Node[], nodes: readonly Node[]): Generator<Node> {
  yield* reserved;
  for (const node of nodes) if (!reserved.includes(node)) yield node;
}
