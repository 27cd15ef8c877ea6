/** Nodepool's label and image listings (STS:196-340) as far as a launcher serves them. */
import type { PoolComponentRecord } from '../zk/models/component';
import type { StatusColumn, StatusRow } from './status-table';

/** Columns of `/label-list`. */
export const LABEL_LIST_COLUMNS: readonly StatusColumn[] = [{ key: 'label', header: 'Label' }];

/** Columns of `/image-list` (always empty here: images are the builder's business). */
export const IMAGE_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'Build ID' },
  { key: 'upload_id', header: 'Upload ID' },
  { key: 'provider', header: 'Provider' },
  { key: 'image', header: 'Image' },
  { key: 'external_name', header: 'Provider Image Name' },
  { key: 'external_id', header: 'Provider Image ID' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
];

/** Columns of `/dib-image-list` (always empty here, like `/image-list`). */
export const DIB_IMAGE_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'ID' },
  { key: 'image', header: 'Image' },
  { key: 'builder', header: 'Builder' },
  { key: 'formats', header: 'Formats' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
];

/** The union of `supported_labels` of all registered pools, sorted (Nodepool leaves it unordered). */
export function labelRows(pools: Iterable<Pick<PoolComponentRecord, 'supported_labels'>>): StatusRow[] {
  const labels = new Set<string>();
  for (const pool of pools) for (const label of pool.supported_labels ?? []) labels.add(label);
  return [...labels].sort().map((label) => ({ label }));
}
