import { randomUUID } from 'node:crypto';

/**
 * A pool worker's launcher id, in Nodepool's shape `<fqdn>-PoolWorker.<provider>-<pool>-<uuid hex>`
 * (spec §1.2). A new one for every start of a pool worker, as in Nodepool; it is what the pool
 * writes into `declined_by`, `node.launcher` and its component record's `id`.
 */
export function newPoolLauncherId(fqdn: string, provider: string, pool: string): string {
  return `${fqdn}-PoolWorker.${provider}-${pool}-${randomUUID().replace(/-/g, '')}`;
}
