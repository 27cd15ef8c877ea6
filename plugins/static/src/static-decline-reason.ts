/** The static provider's own reasons to decline a request (see StaticProvider.declineReason). */
import type { NodeRequest, PoolConfig } from '@nodepool-ts/sdk';
import { staticPoolNodes } from './static-provider-schema';

/**
 * Declines for a disabled pool, a label the pool does not have (spec §2.7), and a request for
 * more nodes (of a label, or in all) than the pool has slots: it could never be served, and
 * would otherwise wait for good (Nodepool's static handler keeps such a request paused).
 */
export function staticDeclineReason(request: NodeRequest, pool: PoolConfig): string | undefined {
  if (pool.maxServers <= 0) return 'pool is disabled by max_servers';
  const labels = new Set(pool.labels);
  const missing = [...new Set(request.node_types.filter((label) => !labels.has(label)))];
  // Bounded: a hostile request may name thousands of labels.
  if (missing.length > 0) return `node type(s) [${missing.slice(0, 5).join(',')}${missing.length > 5 ? `,… (${missing.length} in all)` : ''}] not available`;
  const nodes = staticPoolNodes(pool.raw);
  const slots = (label?: string): number =>
    nodes.reduce((sum, n) => sum + (label === undefined || n.labels.includes(label) ? n['max-parallel-jobs'] : 0), 0);
  const wanted = new Map<string, number>();
  for (const label of request.node_types) wanted.set(label, (wanted.get(label) ?? 0) + 1);
  const short = [...wanted].find(([label, n]) => n > slots(label));
  if (request.node_types.length > slots() || short) {
    return `it would exceed quota (${short ? `${short[1]} nodes of ${short[0]}` : `${request.node_types.length} nodes`}, the pool has ${slots(short?.[0])} slots)`;
  }
  return undefined;
}
