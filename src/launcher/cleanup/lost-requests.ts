/**
 * CleanupWorker task "lost requests" (spec §4.6.3, LCH:604-680): a `pending` request whose lock
 * nobody holds was being served by a launcher that died (its ephemeral request lock vanished with
 * its session). Put it back to `requested` so any launcher can take it again, and release what
 * the dead launcher had reserved for it. With crash-resume (launch-resume.ts) a request waits while
 * a node of it is being resumed, and one whose nodes are all ready is fulfilled with them.
 */
import type { Provider } from '../../plugins/driver';
import { NoNodeError } from '../../plugins/zookeeper';
import { isResumableLaunch } from '../launch-resume';
import type { Node } from '../../zk/models/node';
import type { NodeRequest } from '../../zk/models/node-request';
import { type CleanupContext, errorText, isOurProvider, isolated } from './context';

/** Options of {@link resetLostRequests}. */
export interface ResetLostRequestsOptions extends CleanupContext {
  /**
   * Seconds to wait for each allocated node's lock. Nodepool blocks without a limit; a short
   * limit keeps one stuck node lock from stalling the whole cleanup pass.
   */
  nodeLockTimeout?: number;
  /**
   * Our running providers. A request with a node one of them resumes (launch-resume.ts) stays
   * `pending` until that node is `ready` or gone, so the re-run request reuses the node instead
   * of launching another. None: no request waits.
   */
  providers?: ReadonlyMap<string, Provider>;
  /** Whether a node's launch is resumed here (default {@link isResumableLaunch} over `providers`). */
  mayResume?: (node: Node) => boolean;
}

/** What one pass did, for logs and tests. */
export interface ResetLostRequestsResult {
  /** Ids of the requests put back to `requested`. */
  reset: string[];
  /** Ids of the requests fulfilled with the ready nodes allocated to them (resumed launches). */
  fulfilled: string[];
}

/**
 * Resets every `pending` request whose lock can be taken without waiting (a live launcher holds
 * the lock of the requests it serves, so those are left alone). Each request is isolated: a
 * failure is logged with its id and the pass goes on.
 */
export async function resetLostRequests(options: ResetLostRequestsOptions): Promise<ResetLostRequestsResult> {
  const { zk, logger } = options;
  const result: ResetLostRequestsResult = { reset: [], fulfilled: [] };
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
        const { providers } = options;
        const mayResume = options.mayResume ?? (providers ? (n: Node): boolean => isResumableLaunch(n, providers) : undefined);
        if (mayResume && nodes.some((n) => n.allocated_to === request.id && mayResume(n))) {
          log.debug(`request ${request.id} waits for the launch of its node being resumed`);
          return;
        }
        if (providers && (await fulfilFromAllocated(options, request, nodes, providers))) {
          result.fulfilled.push(request.id as string);
          log.info(`fulfilled lost request ${request.id} with the ready nodes launched for it`, { nodes: request.nodes });
          return;
        }
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

/**
 * A lost request whose every label has a `ready` node of ours allocated to it (launches resumed
 * after its launcher died; launch-resume.ts) is fulfilled with them, as its handler would have
 * done. Resetting it instead would leave the re-run to find those nodes through the caches, and
 * one that misses them launches a second server. Only with every node locked and re-checked;
 * else false and the request is reset as usual. The caller holds the request lock.
 */
async function fulfilFromAllocated(
  options: ResetLostRequestsOptions, request: NodeRequest, nodes: readonly Node[], providers: ReadonlyMap<string, Provider>,
): Promise<boolean> {
  const { zk } = options;
  const mine = nodes.filter((n) => n.allocated_to === request.id);
  if (request.node_types.length === 0 || mine.length !== request.node_types.length) return false;
  if (mine.some((n) => n.state !== 'ready' || !isOurProvider(n.provider, providers))) return false;
  const left = [...mine];
  const ordered: Node[] = [];
  for (const label of request.node_types) {
    const i = left.findIndex((n) => n.type.includes(label));
    if (i < 0) return false;
    ordered.push(...left.splice(i, 1));
  }
  const locked: Node[] = [];
  try {
    for (const node of ordered) {
      if (!(await zk.lockNode(node, { blocking: false }).catch(() => undefined))) return false;
      locked.push(node);
      // lockNode re-read the node.
      if (node.state !== 'ready' || node.allocated_to !== request.id) return false;
    }
    request.nodes = ordered.map((n) => n.id as string);
    request.state = 'fulfilled';
    await zk.storeNodeRequest(request);
    return true;
  } finally {
    for (const node of locked) await zk.unlockNode(node).catch(() => undefined);
  }
}
