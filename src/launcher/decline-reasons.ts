/**
 * The driver-aware decline reasons of a request (spec §4.3 step 8, DRV:585-603), first match
 * only: a pool that may not launch, a label the driver will not serve, an image that is not
 * available, a request that could never fit the cloud or the pool.
 */
import { hasProviderQuota } from './quota-check';
import { distinctLabels, labelList } from './request-order';
import type { Provider } from '../plugins/driver';
import type { PoolConfig } from '../plugins/nodepool-config';
import type { QuotaInformation } from '../plugins/quota';
import type { NodeRequest } from '../zk/models/node-request';

/** Why the pool must decline `request`, or undefined. `cloudLimits` only for launching pools. */
export function declineReason(
  request: NodeRequest,
  provider: Provider,
  pool: PoolConfig,
  cloudLimits: QuotaInformation | undefined,
): string | undefined {
  if (provider.launches && pool.maxServers <= 0) return 'pool max-servers is 0';
  const labels = distinctLabels(request);
  const missing = labels.filter((l) => !pool.labels.includes(l));
  if (missing.length) return `label(s) ${labelList(missing)} not in this pool`;
  const driverReason = provider.declineReason?.(request, pool);
  if (driverReason !== undefined) return driverReason;
  const notReady = labels.filter((l) => provider.labelReady && !provider.labelReady(l, pool));
  if (notReady.length) return `image of label(s) ${labelList(notReady)} not available`;
  if (cloudLimits && !hasProviderQuota(provider, pool, request.node_types, cloudLimits)) {
    return 'request can never fit the provider quota or the pool limits';
  }
  return undefined;
}
