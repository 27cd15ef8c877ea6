/**
 * CleanupWorker task "orphaned init nodes": a pool worker stores a new node as `init` and locks it
 * a moment later (Nodepool does the same, DRV:553-573). When the connection breaks in between, the
 * lock is never taken, the launch never starts and the node stays `init`, unlocked, allocated to a
 * request that moves on without it; no other task touches an `init` node (the deleted-node worker
 * skips the state, the lost-request reset only looks at `pending` requests). Such a node is marked
 * `deleting` under its lock once it has been `init` for {@link ORPHAN_INIT_SECONDS}; its launcher
 * locks a live one within milliseconds.
 */
import type { Provider } from '../../plugins/driver';
import { type CleanupContext, isOurProvider, isolated, wallClock } from './context';

/** Age after which an unlocked `init` node is taken for orphaned. */
export const ORPHAN_INIT_SECONDS = 10;

/** Options of {@link deleteOrphanedInitNodes}. */
export interface OrphanInitOptions extends CleanupContext {
  /** Our running providers; other launchers' nodes are left alone. */
  providers: ReadonlyMap<string, Provider>;
}

/** Marks orphaned `init` nodes of our providers `deleting`; returns their ids. */
export async function deleteOrphanedInitNodes(options: OrphanInitOptions): Promise<string[]> {
  const { zk, logger, providers } = options;
  const now = (options.now ?? wallClock)();
  const done: string[] = [];
  const candidates = (await zk.getNodes()).filter((n) => n.state === 'init' && isOurProvider(n.provider, providers) && now - (n.state_time ?? now) >= ORPHAN_INIT_SECONDS);
  for (const node of candidates) {
    const provider = providers.get(node.provider as string);
    // A provider that leaves deletion to another launcher (coexistence rules) keeps its hands off.
    if (provider?.mayDelete?.(node) === false || provider?.standingBack?.()) continue;
    await isolated(logger, 'deleting orphaned init node', { node: node.id }, async () => {
      if (!(await zk.lockNode(node, { blocking: false }).catch(() => undefined))) return;
      try {
        // lockNode re-read the node: only a node still `init` is orphaned.
        if (node.state !== 'init') return;
        node.state = 'deleting';
        await zk.storeNode(node);
        done.push(node.id as string);
        logger.warn(`node ${node.id} was left init (its launcher lost the connection before locking it): deleting it`, { node: node.id, request: node.allocated_to });
      } finally {
        await zk.unlockNode(node);
      }
    });
  }
  return done;
}
