/**
 * CleanupWorker task "max-hold-age" (spec §4.6.5, LCH:779-834; checklist §7.22): a held node
 * (kept for a user to debug a failed job) is deleted once it has been held longer than its own
 * `hold_expiration` or the launcher's `max-hold-age`, whichever is smaller. With neither set it
 * is kept forever; TS never deletes `hold` nodes by any other rule.
 */
import type { NodepoolConfig } from '../../plugins/nodepool-config';
import type { Node } from '../../zk/models/node';
import { type CleanupContext, isOurProvider, isolated, wallClock } from './context';
import { markDeletingIfStill } from './mark-deleting';

/** Options of {@link deleteExpiredHeldNodes}. */
export interface HoldExpiryOptions extends CleanupContext {
  /** Our providers and the top-level `max-hold-age` (seconds; Infinity or <= 0 = none). */
  config: Pick<NodepoolConfig, 'providers' | 'maxHoldAge'>;
}

/**
 * The hold limit of one node in seconds: `hold_expiration` (a duration counted from
 * `state_time`, not a timestamp) if > 0, capped by `maxHoldAge` if > 0; Infinity when neither.
 */
export function holdLimit(node: Pick<Node, 'hold_expiration'>, maxHoldAge: number): number {
  const own = node.hold_expiration !== null && node.hold_expiration > 0 ? node.hold_expiration : Infinity;
  const global = Number.isFinite(maxHoldAge) && maxHoldAge > 0 ? maxHoldAge : Infinity;
  return Math.min(own, global);
}

/**
 * Marks `deleting` every HOLD node of our providers with `floor(now) − state_time >= limit`
 * (see {@link holdLimit}). Locked nodes are skipped; the state is re-checked under the lock.
 * Returns the marked ids. Each node is isolated.
 */
export async function deleteExpiredHeldNodes(options: HoldExpiryOptions): Promise<string[]> {
  const { zk, logger, config, now = wallClock } = options;
  const marked: string[] = [];
  for (const node of await zk.getNodes()) {
    if (node.state !== 'hold') continue;
    if (!isOurProvider(node.provider, config.providers)) continue;
    const limit = holdLimit(node, config.maxHoldAge);
    if (!Number.isFinite(limit)) continue;
    const age = Math.floor(now()) - node.state_time; // int(time.time()) like Python
    if (age < limit) continue;
    await isolated(logger, 'max-hold-age cleanup', { node: node.id }, async () => {
      // Python re-checks only the state; the limit is re-checked too, so a node re-held (new
      // state_time or hold_expiration) since the listing is not cut short.
      const still = (fresh: Node): boolean =>
        fresh.state === 'hold' && Math.floor(now()) - fresh.state_time >= holdLimit(fresh, config.maxHoldAge);
      if (await markDeletingIfStill(zk, logger, node, still, `held for ${Math.round(age)} s >= ${limit} s`)) {
        marked.push(node.id as string);
      }
    });
  }
  return marked;
}
