/**
 * CleanupWorker task "stale request locks" (spec §4.6.1, LCH:682-701): every lock on a request
 * leaves a persistent `/nodepool/requests-lock/<id>` directory behind (kazoo's ensure_path), and
 * nobody removes it when the request goes away. Directories without a request that have not
 * changed for a long time are removed.
 */
import { REQUEST_LOCK_ROOT, requestLockPath, requestPath } from '../../zk/nodepool-paths';
import { NoNodeError } from '../../zk/zk-errors';
import { type CleanupContext, isolated, wallClock } from './context';

/** Nodepool's LOCK_CLEANUP: 8 hours (LCH:48-49). */
export const STALE_REQUEST_LOCK_SECONDS = 8 * 3600;

/** Options of {@link removeStaleRequestLocks}. */
export interface RemoveStaleRequestLocksOptions extends CleanupContext {
  /** Age in seconds (since the dir's mtime) beyond which it is removed; default 8 h. */
  maxAgeSeconds?: number;
}

/**
 * Removes request lock dirs that have no request and whose mtime is more than `maxAgeSeconds`
 * old (strictly, like Nodepool). Returns the removed ids. Each dir is isolated.
 */
export async function removeStaleRequestLocks(options: RemoveStaleRequestLocksOptions): Promise<string[]> {
  const { zk, logger, now = wallClock, maxAgeSeconds = STALE_REQUEST_LOCK_SECONDS } = options;
  // Requests first, then lock dirs (Nodepool's order): a request created after the listing has a
  // fresh lock dir, which the age test protects.
  const requests = new Set(await zk.getNodeRequestIds());
  let lockIds: string[];
  try {
    lockIds = await zk.client.getChildren(REQUEST_LOCK_ROOT);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
  const removed: string[] = [];
  for (const id of lockIds.sort()) {
    if (requests.has(id)) continue;
    const path = requestLockPath(id);
    await isolated(logger, 'removing stale request lock', { request: id, path }, async () => {
      const stat = await zk.client.exists(path);
      if (!stat) return;
      if (now() - stat.mtime / 1000 <= maxAgeSeconds) return;
      // The request may have appeared since the listing; never pull a lock from under it.
      if (await zk.client.exists(requestPath(id))) return;
      await zk.client.deleteRecursive(path);
      removed.push(id);
      logger.info(`removed stale request lock ${path}`, { request: id, path });
    });
  }
  return removed;
}
