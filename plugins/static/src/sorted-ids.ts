/** Set operations on sorted id lists, without building a Set of every node id. */

/** The ids of sorted `a` that are not in sorted `b`. */
export function sortedMinus(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const id of a) {
    while (j < b.length && b[j] < id) j++;
    if (j >= b.length || b[j] !== id) out.push(id);
  }
  return out;
}

/** Binary search in a sorted list. */
export function sortedIncludes(sorted: readonly string[], id: string): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] === id) return true;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
