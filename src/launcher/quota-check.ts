/**
 * Quota arithmetic of the request handler (spec §4.3 steps 7-8, §4.4 "Launch", §4.9): what one
 * node of a label costs, what nodes in ZooKeeper already use, the pool's own caps, and the
 * tenant limits. Pure functions over a snapshot; the {@link ProviderRuntime} supplies cloud
 * limits and unmanaged usage.
 */
import type { Provider } from '../plugins/driver';
import type { PoolConfig, TenantLimits } from '../plugins/nodepool-config';
import { defaultPoolQuotaLimits } from '../plugins/pool-quota';
import { QuotaInformation } from '../plugins/quota';
import type { Node } from '../zk/models/node';


/** What one node of `label` uses (adapter default `{instances: 1}`, SM:1612-1624). */
export function labelQuota(provider: Provider, label: string, pool: PoolConfig): QuotaInformation {
  return provider.quotaNeededByLabel?.(label, pool) ?? new QuotaInformation({ instances: 1 });
}

/** Sum over several labels (a whole request). */
export function labelsQuota(provider: Provider, labels: readonly string[], pool: PoolConfig): QuotaInformation {
  return labels.reduce((sum, label) => sum.add(labelQuota(provider, label, pool)), new QuotaInformation());
}

/**
 * The pool's caps (SM:553-565): the provider's {@link Provider.poolQuotaLimits} hook, else
 * `max-servers`, `max-cores`, `max-ram`, ... and `max-resources`; unset = ∞.
 */
export function poolLimits(pool: PoolConfig, provider?: Provider): QuotaInformation {
  return provider?.poolQuotaLimits?.(pool) ?? defaultPoolQuotaLimits(pool);
}

/**
 * Quota used by the given nodes (UTL:345-387): each node's recorded `resources`, else what its
 * label costs in the pool it names; nodes whose pool or label is not configured are skipped.
 */
export function usedQuota(nodes: readonly Node[], provider: Provider): QuotaInformation {
  let used = new QuotaInformation();
  for (const node of nodes) {
    if (node.provider !== provider.name) continue;
    if (node.resources && Object.keys(node.resources).length > 0) {
      used = used.add(new QuotaInformation(node.resources));
      continue;
    }
    const pool = provider.config.pools.find((p) => p.name === node.pool);
    const label = node.type.find((l) => pool?.labels.includes(l));
    if (pool && label) used = used.add(labelQuota(provider, label, pool));
  }
  return used;
}

/** Whether the pool ignores the cloud's limits (`ignore-provider-quota`). */
export function ignoresProviderQuota(pool: PoolConfig): boolean {
  return pool.raw['ignore-provider-quota'] === true;
}

/** Inputs of {@link hasRemainingQuota}. */
export interface RemainingQuotaInput {
  provider: Provider;
  pool: PoolConfig;
  label: string;
  /** Every node in ZooKeeper (the function picks this provider's). */
  nodes: readonly Node[];
  /** Cloud limits minus usage that is not ours (∞ fallback when unknown). */
  cloudAvailable: QuotaInformation;
}

/**
 * Room for one more node of `label` now (SM:568-612): the cloud's limits less unmanaged usage
 * and all our provider's nodes, and the pool's caps less the pool's nodes.
 */
export function hasRemainingQuota(input: RemainingQuotaInput): boolean {
  const { provider, pool, label, nodes } = input;
  const needed = labelQuota(provider, label, pool);
  const ours = nodes.filter((n) => n.provider === provider.name);
  if (!ignoresProviderQuota(pool)) {
    const cloud = input.cloudAvailable.subtract(usedQuota(ours, provider)).subtract(needed);
    if (!cloud.nonNegative()) return false;
  }
  const poolLeft = poolLimits(pool, provider).subtract(usedQuota(ours.filter((n) => n.pool === pool.name), provider)).subtract(needed);
  return poolLeft.nonNegative();
}

/**
 * Whether the whole request could EVER fit (SM:527-566): its total need within the cloud's
 * limits and within the pool's caps, ignoring current usage. False means decline.
 */
export function hasProviderQuota(provider: Provider, pool: PoolConfig, labels: readonly string[], cloudLimits: QuotaInformation): boolean {
  const needed = labelsQuota(provider, labels, pool);
  if (!ignoresProviderQuota(pool) && !cloudLimits.subtract(needed).nonNegative()) return false;
  return poolLimits(pool, provider).subtract(needed).nonNegative();
}

/**
 * Tenant limits (LCH:221-237, 368-413): resources of every node in ZooKeeper carrying the
 * tenant, plus what this request would add, within the tenant's limits. True when the tenant
 * has no limits configured.
 */
export function tenantQuotaAllows(
  limits: TenantLimits | undefined,
  nodes: readonly Node[],
  needed: QuotaInformation,
): boolean {
  if (!limits) return true;
  let used = new QuotaInformation();
  for (const node of nodes) {
    if (node.tenant_name === limits.tenantName && node.resources) used = used.add(new QuotaInformation(node.resources));
  }
  return new QuotaInformation(limits.limits, Infinity).subtract(used).subtract(needed).nonNegative();
}
