import type { NodeRequest } from '../zk/models/node-request';

// Keyed by the label list itself: the ZooKeeper layer hands out copies of one parse per record
// version that share it, so a version's labels are de-duplicated once, not on every pass.
const distinct = new WeakMap<readonly string[], readonly string[]>();

/**
 * The request's labels without repeats, memoised per label list. Judging a request (routing,
 * decline reasons, order) only asks which labels it names; a hostile request may repeat one
 * label tens of thousands of times, which every pass would otherwise walk again.
 */
export function distinctLabels(request: NodeRequest): readonly string[] {
  let labels = distinct.get(request.node_types);
  if (!labels) {
    labels = [...new Set(request.node_types)];
    distinct.set(request.node_types, labels);
  }
  return labels;
}

/**
 * Labels in a message: the first few, then how many there are in all (a hostile request can name
 * thousands; each message goes into a log line and a span attribute).
 */
export function labelList(labels: readonly string[], max = 5): string {
  return labels.length <= max ? labels.join(', ') : `${labels.slice(0, max).join(', ')}, … (${labels.length} in all)`;
}

/**
 * Nodepool's request order for one pool (spec §2.2, LCH:141-149): fewest labels this pool lacks
 * first, then the priority prefix compared as a string, then `relative_priority` as a number,
 * then the sequence compared as a string. Returns a comparator for `Array.prototype.sort`.
 */
export function requestComparator(poolLabels: Pick<ReadonlySet<string>, 'has'>): (a: NodeRequest, b: NodeRequest) => number {
  // Counted once per request and sort, not once per comparison.
  const counted = new WeakMap<NodeRequest, number>();
  const missing = (r: NodeRequest): number => {
    let n = counted.get(r);
    if (n === undefined) {
      n = 0;
      for (const l of r.node_types) if (!poolLabels.has(l)) n++;
      counted.set(r, n);
    }
    return n;
  };
  const str = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return (a, b) =>
    missing(a) - missing(b) ||
    str(a.priority ?? '', b.priority ?? '') ||
    a.relative_priority - b.relative_priority ||
    str(a.sequence ?? '', b.sequence ?? '');
}
