/**
 * The `multi` transactions that replace a lock + re-read + write + unlock sequence with one
 * round trip (see `NodepoolZk.fulfilNodeRequest` / `deleteUnlockedNode`). Only the op lists
 * live here; the caller owns the locks and the cache.
 */
import type { ZkOp } from '../plugins/zookeeper';
import type { Node } from './models/node';
import type { NodeRequest } from './models/node-request';
import { nodeLockPath, nodePath, requestLockPath, requestPath } from './nodepool-paths';

/** A version a checked write can use; -1 (unknown) would make the write unconditional. */
export function knownVersion(version: number, what: string): number {
  if (!Number.isInteger(version) || version < 0) throw new Error(`${what}: version unknown, a checked write needs one`);
  return version;
}

/** What {@link fulfilmentOps} writes. */
export interface FulfilmentWrite {
  request: NodeRequest;
  nodes: readonly Node[];
  /** Full paths of our node lock contenders, index-aligned with `nodes`. */
  nodeContenders: readonly string[];
  /** Our request lock contender, or 'claim' to create the (absent) request lock dir instead. */
  requestLock: string | 'claim';
}

/**
 * Nodes' allocation (checked), node locks released, request `fulfilled` (checked), request lock
 * released. Python does these as four steps in this order (DRV:774-786); one transaction makes
 * the intermediate states invisible, and the final one is exactly Python's.
 */
export function fulfilmentOps(write: FulfilmentWrite): ZkOp[] {
  const { request, nodes } = write;
  const id = request.id as string;
  const ops: ZkOp[] = [];
  // Creating the lock dir fails (NodeExists) if anybody ever locked the request: when it
  // succeeds, nobody could have held the lock before, and anybody locking later sees our write.
  if (write.requestLock === 'claim') ops.push({ op: 'create', path: requestLockPath(id) });
  for (const node of nodes) {
    ops.push({ op: 'set', path: nodePath(node.id as string), data: node.serialize(), version: knownVersion(node.version, `node ${node.id}`) });
  }
  for (const contender of write.nodeContenders) ops.push({ op: 'delete', path: contender });
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
