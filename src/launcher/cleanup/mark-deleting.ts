/**
 * The lock / re-check / mark `deleting` step shared by the age-based cleanup tasks (spec §4.6.4-5).
 */
import type { Logger } from '../../plugins/logger';
import type { ZooKeeper } from '../../plugins/zookeeper';
import type { Node } from '../../zk/models/node';

/**
 * Locks `node` without waiting (a locked node is in use by someone; Nodepool skips it), re-checks
 * `stillEligible` on the data refreshed under the lock, then sets `deleting` and stores it; the
 * DeletedNodeWorker does the rest. Returns whether the node was marked.
 */
export async function markDeletingIfStill(
  zk: ZooKeeper,
  logger: Logger,
  node: Node,
  stillEligible: (fresh: Node) => boolean,
  reason: string,
): Promise<boolean> {
  const lock = await zk.lockNode(node, { blocking: false });
  if (!lock) return false;
  try {
    if (!stillEligible(node)) return false;
    node.state = 'deleting';
    await zk.storeNode(node);
    logger.info(`marked node ${node.id} deleting: ${reason}`, { node: node.id });
    return true;
  } finally {
    await zk.unlockNode(node);
  }
}
