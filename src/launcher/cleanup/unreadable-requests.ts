/**
 * CleanupWorker task "unreadable requests" (issue 19): a request znode whose body no launcher
 * can read (not JSON, not a request, or over the size bound and so never parsed) can never be
 * served, yet would stay `requested` for good: every launcher skips it, and its requestor waits.
 * Nodepool fails a request no launcher can serve; this does the same for these, under the
 * request lock and version-checked against the unreadable version, so a requestor that rewrote
 * it meanwhile keeps its new body. What the bad body held cannot be kept (it was never read):
 * the failed body carries Nodepool's keys with their defaults.
 */
import { NoNodeError } from '../../plugins/zookeeper';
import { BadVersionError } from '../../zk/zk-errors';
import { KazooLock } from '../../zk/kazoo-lock';
import { NodeRequest } from '../../zk/models/node-request';
import { MAX_BODY_BYTES } from '../../zk/record-parser';
import { requestLockPath, requestPath } from '../../zk/nodepool-paths';
import { type CleanupContext, isolated } from './context';

/** Fails the requests whose body cannot be read; returns their ids. */
export async function failUnreadableRequests(options: CleanupContext): Promise<string[]> {
  const { zk, logger } = options;
  const failed: string[] = [];
  for (const id of zk.unreadableRequestIds?.() ?? []) {
    await isolated(logger, 'failing unreadable request', { request: id }, async () => {
      const lock = new KazooLock(zk.client, requestLockPath(id));
      if (!(await lock.acquire({ blocking: false }).catch(() => false))) return;
      try {
        const path = requestPath(id);
        const { data, stat } = await zk.client.get(path);
        if (readable(id, data)) return; // rewritten meanwhile
        const request = new NodeRequest(id);
        request.state = 'failed';
        await zk.client.set(path, request.serialize(), stat.version);
        failed.push(id);
        logger.warn(`request ${id} cannot be read (${data?.length ?? 0} bytes): failed it`, { request: id, path });
      } catch (err) {
        if (!(err instanceof NoNodeError) && !(err instanceof BadVersionError)) throw err;
      } finally {
        await lock.release().catch(() => undefined);
      }
    });
  }
  return failed;
}

/** Whether a launcher can read the body (the rule of the record parser: size first, then parse). */
function readable(id: string, data: Buffer | null): boolean {
  if (!data || data.length === 0) return true; // an empty znode is not a request body to fail
  if (data.length > MAX_BODY_BYTES) return false;
  try {
    NodeRequest.parse(id, data);
    return true;
  } catch {
    return false;
  }
}
