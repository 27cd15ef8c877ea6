/**
 * Handing out ready nodes (spec §4.4 "Reuse"), shared by the static fulfilment and the launch
 * handler: pick, lock, re-check, allocate; and giving nodes back when a request is not fulfilled.
 */
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { PoolConfig } from '../plugins/nodepool-config';
import type { ZooKeeper } from '../plugins/zookeeper';
import { Node } from '../zk/models/node';
import type { NodeRequest } from '../zk/models/node-request';

/** What {@link allocateOne} looks at. */
export interface AllocationContext {
  zk: ZooKeeper;
  provider: Provider;
  pool: PoolConfig;
  /** Candidate nodes, in preference order (a pass's snapshot; allocation updates them in place). */
  nodes: Iterable<Node>;
  /** Ids of nodes seen locked at snapshot time. */
  locked: Pick<ReadonlySet<string>, 'has'>;
}

/** A ready, unallocated node of this provider and pool that nobody held at snapshot time. */
export function isFreeNode(node: Node, ctx: Pick<AllocationContext, 'provider' | 'pool' | 'locked'>): boolean {
  return (
    node.state === 'ready' &&
    !node.allocated_to &&
    node.provider === ctx.provider.name &&
    node.pool === ctx.pool.name &&
    node.id !== null &&
    !ctx.locked.has(node.id)
  );
}

/**
 * Picks, locks and allocates one free node carrying `label` (spec §4.4 Reuse): the provider's
 * liveness check runs BEFORE the lock (the static provider may deregister a dead host, which
 * takes the node lock itself), then lock without waiting and re-check ready + unallocated.
 */
export async function allocateOne(
  request: NodeRequest,
  label: string,
  chosen: readonly Node[],
  ctx: AllocationContext,
  log: Logger,
  accept: (node: Node) => boolean = () => true,
): Promise<Node | undefined> {
  const { zk, provider } = ctx;
  for (const node of ctx.nodes) {
    if (chosen.includes(node) || !isFreeNode(node, ctx) || !node.type.includes(label) || !accept(node)) continue;
    if (await zk.isNodeLocked(node.id as string)) continue;
    if (provider.isNodeUsable && !(await provider.isNodeUsable(node))) continue;
    const lock = await zk.lockNode(node, { blocking: false }).catch(() => undefined);
    if (!lock) continue;
    if (node.state !== 'ready' || node.allocated_to) {
      await zk.unlockNode(node).catch(() => undefined);
      continue;
    }
    node.allocated_to = request.id;
    node.tenant_name = request.tenant_name;
    node.requestor = request.requestor;
    try {
      await zk.storeNode(node);
    } catch (err) {
      await zk.unlockNode(node).catch(() => undefined);
      log.warn('cannot allocate node', { node: node.id, err: (err as Error).message });
      continue;
    }
    return node;
  }
  return undefined;
}

/** Unlocks our nodes, first clearing their allocation when the request is not being fulfilled. */
export async function releaseNodes(nodes: readonly Node[], zk: ZooKeeper, deallocate: boolean, log: Logger): Promise<void> {
  for (const node of nodes) {
    try {
      if (deallocate) {
        node.allocated_to = null;
        await zk.storeNode(node);
      }
    } catch (err) {
      log.warn('cannot de-allocate node', { node: node.id, err: (err as Error).message });
    }
    await zk.unlockNode(node).catch(() => undefined);
  }
}

/**
 * A new `init` node for one `label` of `request`, of our pool (DRV:553-567): what the launch
 * handler stores before it locks and launches, and what an instant launch fulfils in one go.
 */
export function initNodeFor(request: NodeRequest, label: string, provider: string, pool: PoolConfig, ownId: string): Node {
  const node = new Node();
  node.state = 'init';
  node.type = [label];
  node.provider = provider;
  node.pool = pool.name;
  node.launcher = ownId;
  node.allocated_to = request.id;
  node.tenant_name = request.tenant_name;
  node.requestor = request.requestor;
  if (pool.nodeAttributes) node.attributes = { ...pool.nodeAttributes };
  return node;
}
