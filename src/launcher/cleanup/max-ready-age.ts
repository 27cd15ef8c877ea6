/**
 * CleanupWorker task "max-ready-age" (spec §4.6.4, LCH:717-777; drivers-config §1.3): ready nodes
 * nobody used for longer than their label's `max-ready-age` are deleted, so images and hosts are
 * refreshed.
 */
import type { LabelConfig, NodepoolConfig } from '../../plugins/nodepool-config';
import type { Node } from '../../zk/models/node';
import { type CleanupContext, isOurProvider, isolated, wallClock } from './context';
import { markDeletingIfStill } from './mark-deleting';

/** Options of {@link deleteOverageReadyNodes}. */
export interface MaxReadyAgeOptions extends CleanupContext {
  /** The labels (with `max-ready-age`) and our providers. */
  config: Pick<NodepoolConfig, 'labels' | 'providers'>;
}

/**
 * Marks `deleting` every READY, unallocated node of one of our providers carrying a label with
 * `max-ready-age > 0` whose age `floor(now) − state_time` reached that age. Locked nodes are
 * skipped; state and allocation are re-checked under the lock. Returns the marked ids. Each node
 * is isolated.
 */
export async function deleteOverageReadyNodes(options: MaxReadyAgeOptions): Promise<string[]> {
  const { zk, logger, config, now = wallClock } = options;
  const aged = [...config.labels.values()].filter((l) => l['max-ready-age'] > 0);
  if (aged.length === 0) return [];
  const marked: string[] = [];
  for (const node of await zk.getNodes()) {
    if (!isReadyUnallocated(node)) continue;
    // Only our providers: another launcher's config decides the life of its nodes.
    if (!isOurProvider(node.provider, config.providers)) continue;
    const maxAge = smallestAge(node, aged);
    if (maxAge === undefined) continue;
    // Python compares int(time.time()), truncating the clock but not state_time.
    const age = Math.floor(now()) - node.state_time;
    if (age < maxAge) continue;
    await isolated(logger, 'max-ready-age cleanup', { node: node.id }, async () => {
      // Re-checked under the lock; the age too, since a node used and returned meanwhile has a
      // new state_time (Python re-checks only state and allocation).
      const still = (fresh: Node): boolean => isReadyUnallocated(fresh) && Math.floor(now()) - fresh.state_time >= maxAge;
      const done = await markDeletingIfStill(zk, logger, node, still, `ready for ${Math.round(age)} s >= max-ready-age ${maxAge} s`);
      if (done) marked.push(node.id as string);
    });
  }
  return marked;
}

function isReadyUnallocated(node: Node): boolean {
  return node.state === 'ready' && !node.allocated_to;
}

/**
 * Nodepool handles the node once per aged label it carries; the first label whose age is reached
 * marks it, which is the same as using the smallest age among its labels.
 */
function smallestAge(node: Node, aged: readonly LabelConfig[]): number | undefined {
  const ages = aged.filter((l) => node.type.includes(l.name)).map((l) => l['max-ready-age']);
  return ages.length ? Math.min(...ages) : undefined;
}
