/**
 * The `multi` transactions that replace a lock + re-read + write + unlock sequence with one
 * round trip (see `NodepoolZk.fulfilNodeRequest` / `deleteUnlockedNode`). Only the op lists
 * live here; the caller owns the locks and the cache.
 */
import type { ZnodeCheck } from '../plugins/instant-launch';
import type { ZkOp, ZkOpResult, ZooKeeperClient } from '../plugins/zookeeper';
import { KazooLock } from './kazoo-lock';
import { contenderSequence } from './lock-contenders';
import type { Node } from './models/node';
import type { NodeRequest } from './models/node-request';
import { nodeLockPath, nodePath, requestLockPath, requestPath } from './nodepool-paths';
import { BadVersionError, NodeExistsError, NoNodeError, NotEmptyError, ZkError } from './zk-errors';
import type { ZnodeCache } from './znode-cache';

/** What the transactions need from NodepoolZk. */
export interface AtomicContext {
  client: ZooKeeperClient;
  nodeLocks: WeakMap<Node, KazooLock>;
  requestLocks: WeakMap<NodeRequest, KazooLock>;
  nodeCache: ZnodeCache | undefined;
  requestCache: ZnodeCache | undefined;
  /** A child of node `id`'s lock dir that is not a kazoo contender (reported once by NodepoolZk). */
  foreignLockChild(id: string, path: string): void;
  /** NodepoolZk's announcement of our own writes to a cache (ZnodeCache.beginWrite). */
  writing<T>(cache: ZnodeCache | undefined, ids: ReadonlyArray<string | undefined>, write: () => Promise<T>): Promise<T>;
}

/** A version a checked write can use; -1 (unknown) would make the write unconditional. */
export function knownVersion(version: number, what: string): number {
  if (!Number.isInteger(version) || version < 0) throw new Error(`${what}: version unknown, a checked write needs one`);
  return version;
}

/**
 * How a fulfilment makes sure nobody holds a node's lock: our own contender (deleted by the
 * transaction: we held the lock), or, without one, a check made by the transaction itself:
 * 'absent' creates the lock dir (fails with NodeExists if anybody ever locked the node);
 * 'empty' deletes and re-creates it (fails with NotEmpty while anybody holds or waits for the
 * lock, NoNode if it does not exist). Either way the transaction happens at an instant when
 * nobody held the lock, exactly as a lock taken, used and released in one step; the dir is
 * left in place, empty, as after any kazoo release.
 */
export type NodeLockHandling = { contender: string } | 'absent' | 'empty';

/** What {@link fulfilmentOps} writes. */
export interface FulfilmentWrite {
  request: NodeRequest;
  nodes: readonly Node[];
  /** Index-aligned with `nodes`. */
  nodeLocks: readonly NodeLockHandling[];
  /** Our request lock contender, or 'claim' to create the (absent) request lock dir instead. */
  requestLock: string | 'claim';
  /** Further checks of the same transaction (an instant launch's reservation). */
  checks?: readonly ZnodeCheck[];
}

/**
 * Nodes' allocation (checked), node locks released, request `fulfilled` (checked), request lock
 * released. Python does these as four steps in this order (DRV:774-786); one transaction makes
 * the intermediate states invisible, and the final one is exactly Python's.
 */
export function fulfilmentOps(write: FulfilmentWrite): ZkOp[] {
  const { request, nodes } = write;
  const id = request.id as string;
  const ops: ZkOp[] = (write.checks ?? []).map((c) => ({ op: 'check' as const, path: c.path, version: c.version }));
  // Creating the lock dir fails (NodeExists) if anybody ever locked the request: when it
  // succeeds, nobody could have held the lock before, and anybody locking later sees our write.
  if (write.requestLock === 'claim') ops.push({ op: 'create', path: requestLockPath(id) });
  nodes.forEach((node, i) => {
    const lockDir = nodeLockPath(node.id as string);
    const handling = write.nodeLocks[i];
    if (handling === 'empty') ops.push({ op: 'delete', path: lockDir });
    if (handling === 'empty' || handling === 'absent') ops.push({ op: 'create', path: lockDir });
    ops.push({ op: 'set', path: nodePath(node.id as string), data: node.serialize(), version: knownVersion(node.version, `node ${node.id}`) });
  });
  for (const handling of write.nodeLocks) if (typeof handling === 'object') ops.push({ op: 'delete', path: handling.contender });
  ops.push({ op: 'set', path: requestPath(id), data: request.serialize(), version: knownVersion(request.version, `request ${id}`) });
  if (write.requestLock !== 'claim') ops.push({ op: 'delete', path: write.requestLock });
  return ops;
}

/**
 * `deleted` (checked against the version the caller decided on), then the lock dir and the node
 * (ZK:2712-2730 as one step). The lock dir's delete fails (NotEmpty) while any contender exists,
 * which is the "nobody holds it" check a lock would have made.
 */
export function deleteNodeOps(node: Node, data: Buffer, withLockDir: boolean): ZkOp[] {
  const id = node.id as string;
  const ops: ZkOp[] = [{ op: 'set', path: nodePath(id), data, version: knownVersion(node.version, `node ${id}`) }];
  if (withLockDir) ops.push({ op: 'delete', path: nodeLockPath(id) });
  ops.push({ op: 'delete', path: nodePath(id) });
  return ops;
}

/**
 * `ZooKeeper.fulfilNodeRequest`: the writes of {@link fulfilmentOps} in one multi; on success
 * the caches take what we wrote and the locks deleted by it are forgotten.
 */
export async function commitFulfilment(ctx: AtomicContext, request: NodeRequest, nodes: readonly Node[], claimLock: boolean, checks: readonly ZnodeCheck[] = []): Promise<void> {
  const id = request.id as string;
  const ours = nodes.map((node) => ctx.nodeLocks.get(node));
  // Nodes we did not lock: a node never written since its creation was most likely never locked.
  const handling: NodeLockHandling[] = nodes.map((node, i) => {
    const contender = ours[i]?.contenderPath;
    return contender ? { contender } : node.version === 0 ? 'absent' : 'empty';
  });
  const requestLock = claimLock ? undefined : ctx.requestLocks.get(request);
  if (!claimLock && !requestLock?.contenderPath) throw new Error(`request ${id} is not locked by this process`);
  // Node locks taken here because a lock dir held a child that is not a contender (see below).
  const taken: Array<KazooLock | undefined> = [];
  try {
    await commitWithHandling(ctx, request, nodes, handling, ours, taken, requestLock, checks);
  } finally {
    // Those the transaction did not release (it failed) are released here.
    for (const lock of taken) if (lock?.isAcquired) await lock.release().catch(() => undefined);
  }
}

async function commitWithHandling(
  ctx: AtomicContext,
  request: NodeRequest,
  nodes: readonly Node[],
  handling: NodeLockHandling[],
  ours: Array<KazooLock | undefined>,
  taken: Array<KazooLock | undefined>,
  requestLock: KazooLock | undefined,
  checks: readonly ZnodeCheck[],
): Promise<void> {
  const id = request.id as string;
  // The caches take the data we wrote (the sets come back in op order: the nodes', then the
  // request's) before the events of this write are settled.
  await ctx.writing(ctx.nodeCache, nodes.map((n) => n.id as string), () => ctx.writing(ctx.requestCache, [id], async () => {
    for (let attempt = 0; ; attempt++) {
      const ops = fulfilmentOps({ request, nodes, nodeLocks: handling, requestLock: requestLock ? (requestLock.contenderPath as string) : 'claim', checks });
      let results: ZkOpResult[];
      try {
        results = await ctx.client.multi(ops);
      } catch (err) {
        // A wrong guess about a node's lock dir (it exists / it does not): guess again.
        const i = nodes.findIndex((n) => err instanceof ZkError && err.path === nodeLockPath(n.id as string));
        const guess = handling[i];
        if (attempt > 2 * nodes.length || i < 0 || typeof guess === 'object') throw err;
        if (guess === 'absent' && err instanceof NodeExistsError) handling[i] = 'empty';
        else if (guess === 'empty' && err instanceof NoNodeError) handling[i] = 'absent';
        else if (guess === 'empty' && err instanceof NotEmptyError) {
          // Not empty: held, or only a child that is no lock contender (written by anybody),
          // which kazoo's recipe ignores. Then the node is locked the kazoo way instead, so such
          // a child cannot keep a ready node from ever being handed out (issue 19).
          const lock = await lockPastForeignChildren(ctx, nodes[i].id as string);
          if (!lock?.contenderPath) throw err;
          taken[i] = lock;
          handling[i] = { contender: lock.contenderPath };
        } else throw err;
        continue;
      }
      const written = ops.flatMap((op) => (op.op === 'set' ? [op.data] : []));
      const stats = results.flatMap((r) => (r.op === 'set' ? [r.stat] : []));
      nodes.forEach((node, i) => {
        node.version = stats[i].version;
        ctx.nodeCache?.noteWrite(node.id as string, written[i], node.version);
        ctx.nodeLocks.delete(node);
        ours[i]?.releasedByMulti();
        taken[i]?.releasedByMulti();
      });
      request.version = stats[nodes.length].version;
      ctx.requestCache?.noteWrite(id, written[nodes.length], request.version);
      if (requestLock) {
        ctx.requestLocks.delete(request);
        requestLock.releasedByMulti();
      }
      return;
    }
  }));
}

/**
 * The node's lock, taken without waiting, when its lock dir holds no contender but other
 * children (each reported); undefined when a contender holds or waits for it.
 */
async function lockPastForeignChildren(ctx: AtomicContext, id: string): Promise<KazooLock | undefined> {
  const dir = nodeLockPath(id);
  let children: string[];
  try {
    children = await ctx.client.getChildren(dir);
  } catch (err) {
    if (err instanceof NoNodeError) return undefined;
    throw err;
  }
  if (children.some((name) => contenderSequence(name) !== undefined)) return undefined;
  const lock = new KazooLock(ctx.client, dir, '', true, false, (child) => ctx.foreignLockChild(id, child));
  return (await lock.acquire({ blocking: false })) ? lock : undefined;
}

/** `ZooKeeper.deleteUnlockedNode`: {@link deleteNodeOps} in one multi. */
export async function deleteUnlocked(ctx: AtomicContext, node: Node): Promise<'deleted' | 'busy' | 'changed' | 'gone'> {
  const id = node.id as string;
  const before = { state: node.state, state_time: node.state_time };
  node.state = 'deleted';
  const data = node.serialize();
  const end = ctx.nodeCache?.beginWrite(id);
  try {
    try {
      await ctx.client.multi(deleteNodeOps(node, data, true));
    } catch (err) {
      // Never locked by anyone: there is no lock dir to remove.
      if (!(err instanceof NoNodeError) || err.path !== nodeLockPath(id)) throw err;
      await ctx.client.multi(deleteNodeOps(node, data, false));
    }
  } catch (err) {
    // Key order matters: the state setter stamps state_time, which is then put back.
    Object.assign(node, before);
    if (err instanceof NotEmptyError) return 'busy';
    if (err instanceof BadVersionError) return 'changed';
    if (err instanceof NoNodeError) return 'gone';
    throw err;
  } finally {
    end?.();
  }
  ctx.nodeCache?.noteDelete(id);
  return 'deleted';
}
