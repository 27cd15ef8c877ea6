/** Nodepool's label listing (STS:322-340). */
import type { PoolComponentRecord } from '../zk/models/component';
import type { StatusColumn, StatusRow } from './status-table';

/** Columns of `/label-list`. */
export const LABEL_LIST_COLUMNS: readonly StatusColumn[] = [{ key: 'label', header: 'Label' }];

/** The union of `supported_labels` of all registered pools, sorted (Nodepool leaves it unordered). */
export function labelRows(pools: Iterable<Pick<PoolComponentRecord, 'supported_labels'>>): StatusRow[] {
  const labels = new Set<string>();
  for (const pool of pools) for (const label of pool.supported_labels ?? []) labels.add(label);
  return [...labels].sort().map((label) => ({ label }));
}
