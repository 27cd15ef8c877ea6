import type { NodeRequest } from '../zk/models/node-request';

/**
 * Nodepool's request order for one pool (spec §2.2, LCH:141-149): fewest labels this pool lacks
 * first, then the priority prefix compared as a string, then `relative_priority` as a number,
 * then the sequence compared as a string. Returns a comparator for `Array.prototype.sort`.
 */
export function requestComparator(poolLabels: ReadonlySet<string>): (a: NodeRequest, b: NodeRequest) => number {
  const missing = (r: NodeRequest): number => r.node_types.filter((l) => !poolLabels.has(l)).length;
  const str = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return (a, b) =>
    missing(a) - missing(b) ||
    str(a.priority ?? '', b.priority ?? '') ||
    a.relative_priority - b.relative_priority ||
    str(a.sequence ?? '', b.sequence ?? '');
}
