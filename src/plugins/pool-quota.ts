/**
 * A pool's own caps, as the engine reads them unless the provider says otherwise through
 * `Provider.poolQuotaLimits` (a driver with caps under other keys, or computed ones, implements
 * it, and may start from {@link defaultPoolQuotaLimits}).
 */
import type { PoolConfig } from './nodepool-config';
import { QuotaInformation } from './quota';

/** Pool keys that cap a resource, by resource (`max-servers` is `instances`, via `maxServers`). */
export const POOL_CAP_KEYS: Readonly<Record<string, string>> = Object.freeze({
  'max-cores': 'cores',
  'max-ram': 'ram',
  'max-volumes': 'volumes',
  'max-volume-gb': 'volume-gb',
});

/**
 * Nodepool's pool caps: `max-servers` (instances), `max-cores`, `max-ram`, `max-volumes`,
 * `max-volume-gb` and each key of `max-resources`; anything unset is unlimited.
 */
export function defaultPoolQuotaLimits(pool: PoolConfig): QuotaInformation {
  const values: Record<string, number> = {};
  if (Number.isFinite(pool.maxServers)) values.instances = pool.maxServers;
  for (const [key, resource] of Object.entries(POOL_CAP_KEYS)) {
    const v = pool.raw[key];
    if (typeof v === 'number') values[resource] = v;
  }
  const extra = pool.raw['max-resources'];
  if (extra && typeof extra === 'object') {
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) if (typeof v === 'number') values[k] = v;
  }
  return new QuotaInformation(values, Infinity);
}
