/**
 * CleanupWorker task "lost requests" (spec §4.6.3, LCH:604-680): a `pending` request whose lock
 * nobody holds was being served by a launcher that died (its ephemeral request lock vanished with
 * its session). Put it back to `requested` so any launcher can take it again, and release what
 * the dead launcher had reserved for it.
 */
import { NoNodeError } from '../../plugins/zookeeper';
import type { Node } from '../../zk/models/node';
import type { NodeRequest } from '../../zk/models/node-request';
import { type CleanupContext, errorText, isolated } from './context';

/** Options of {@link resetLostRequests}. */
export interface ResetLostRequestsOptions extends CleanupContext {
  /**
   * Seconds to wait for each allocated node's lock. Nodepool blocks without a limit; a short
   * limit keeps one stuck node lock from stalling the whole cleanup pass.
   */
  nodeLockTimeout?: number;
}

/** What one pass did, for logs and tests. */
export interface ResetLostRequestsResult {
  /** Ids of the requests put back to `requested`. */
  reset: string[];
}

/**
 * Resets every `pending` request whose lock can be taken without waiting (a live launcher holds
 * the lock of the requests it serves, so those are left alone). Each request is isolated: a
 * failure is logged with its id and the pass goes on.
 */
export async function resetLostRequests(options: ResetLostRequestsOptions): Promise<ResetLostRequestsResult> {
  const { zk, logger } = options;
  const result: ResetLostRequestsResult = { reset: [] };
  const pending = (await zk.getNodeRequests()).filter((r) => r.state === 'pending');
  if (pending.length === 0) return result;
  // Nodes are read once per pass and only when needed; allocation is re-checked under each node's
  // lock, so a slightly stale list is harmless.
  let nodes: Node[] | undefined;
  for (const request of pending) {
    const log = logger.child({ request: request.id });
    await isolated(log, 'resetting lost request', { request: request.id }, async () => {
      const lock = await zk.lockNodeRequest(request, { blocking: false }).catch((err: unknown) => {
        // Gone since the (cached, maybe stale after a session loss) listing: Zuul took it.
        // Nothing to reset; not worth an error line per request.
        if (err instanceof NoNodeError) return undefined;
        throw err;
      });
      if (!lock) return; // held by a live launcher (not lost), or gone
      try {
        // lockNodeRequest re-read the request; it may have moved on between listing and locking.
        if (request.state !== 'pending') return;
        nodes ??= await zk.getNodes();
        await releaseAllocatedNodes(options, request, nodes);
        request.state = 'requested';
        request.nodes = [];
        await zk.storeNodeRequest(request);
        result.reset.push(request.id as string);
        log.info(`reset lost request ${request.id} to requested`);
      } finally {
        await zk.unlockNodeRequest(request);
      }
    });
  }
  return result;
}

/**
 * For every node allocated to `request`: lock it, turn an `init` node (never started building)
 * into `deleting`, clear `allocated_to`, store, unlock. A node whose lock cannot be had is left
 * for the next pass, like Nodepool does on a lock error.
 */
async function releaseAllocatedNodes(options: ResetLostRequestsOptions, request: NodeRequest, nodes: Node[]): Promise<void> {
  const { zk, logger, nodeLockTimeout = 5 } = options;
  for (const node of nodes.filter((n) => n.allocated_to === request.id)) {
    const log = logger.child({ request: request.id, node: node.id });
    await isolated(log, 'releasing node of lost request', { request: request.id, node: node.id }, async () => {
      let lock;
      try {
        lock = await zk.lockNode(node, { blocking: true, timeout: nodeLockTimeout });
      } catch (err) {
        log.warn(`cannot lock node ${node.id} of lost request ${request.id}: ${errorText(err)}`);
        return;
      }
      if (!lock) {
        log.warn(`timed out locking node ${node.id} of lost request ${request.id}`);
        return;
      }
      try {
        // Re-checked under the lock (lockNode refreshed the node): if the allocation changed
        // meanwhile, the node is no longer ours to release.
        if (node.allocated_to !== request.id) return;
        if (node.state === 'init') node.state = 'deleting';
        node.allocated_to = null;
        await zk.storeNode(node);
        log.info(`released node ${node.id} (now ${node.state}) of lost request ${request.id}`);
      } finally {
        await zk.unlockNode(node);
      }
    });
  }
}
