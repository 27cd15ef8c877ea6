/**
 * A pool's decline of a request (spec §4.3), and the lock without waiting that it and the
 * acceptance of a request share.
 */
import type { Logger } from '../plugins/logger';
import type { Tracer } from '../plugins/tracer';
import { NoNodeError, type ZooKeeper, type ZooKeeperLock } from '../plugins/zookeeper';
import type { PoolComponentRecord } from '../zk/models/component';
import type { NodeRequest } from '../zk/models/node-request';
import { applyDecline } from './assign-decision';
import { requestParentContext } from './trace-context';

/** What {@link declineRequest} needs of the declining pool. */
export interface DeclineContext {
  zk: ZooKeeper;
  /** The pool launcher id added to `declined_by`. */
  ownId: string;
  logger: Logger;
  tracer?: Tracer;
}

/** Locks `request` without waiting; undefined when somebody else holds it or it is gone. */
export async function lockRequestNow(zk: ZooKeeper, request: NodeRequest): Promise<ZooKeeperLock | undefined> {
  return zk.lockNodeRequest(request, { blocking: false }).catch((err: unknown) => {
    if (err instanceof NoNodeError) return undefined;
    throw err;
  });
}

/**
 * Declines under the request lock, never without it (checklist §7.11): lock without waiting,
 * re-check, add our id once, `failed` when every registered pool declined (spec §4.3).
 */
export async function declineRequest(request: NodeRequest, reason: string, registered: readonly PoolComponentRecord[], ctx: DeclineContext): Promise<void> {
  const { zk, ownId } = ctx;
  const lock = await lockRequestNow(zk, request);
  if (!lock) return;
  try {
    if (request.state !== 'requested' || request.declined_by.includes(ownId)) return;
    applyDecline(request, ownId, registered);
    await zk.storeNodeRequest(request);
    ctx.logger.info(`declined request: ${reason}`, { request: request.id, state: request.state });
    // In the request's trace, so a request declined here and served elsewhere reads as one.
    ctx.tracer?.startSpan('nodepool.decline', {
      attributes: { 'nodepool.request': request.id ?? '', 'nodepool.pool': ownId, 'nodepool.decline.reason': reason, 'nodepool.request.state': request.state },
    }, requestParentContext(request)).end();
  } finally {
    await zk.unlockNodeRequest(request).catch((err: unknown) => ctx.logger.warn('request unlock failed', { err: (err as Error).message }));
  }
}
