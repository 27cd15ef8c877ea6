/**
 * When a backing node is retired and released (spec drivers-config §3.5, `adapter.py:288-337`):
 * the age and idle-time rules of the periodic release pass, on one {@link BackingRecord}.
 */
import type { BackingRecord } from './backing-record';
import type { MetastaticLabelConfig } from './metastatic-provider-schema';

/** Whether the backing node is past its label's `max-age` (it takes no new nodes then). */
export function pastMaxAge(record: BackingRecord, cfg: MetastaticLabelConfig | undefined, now: number): boolean {
  const maxAge = cfg?.['max-age'];
  return maxAge !== null && maxAge !== undefined && now - record.launched > maxAge;
}

/**
 * Whether a live backing node with `users` occupants (counted from ZooKeeper) is to be released
 * now: empty, its `grace-time` and `min-retention-time` passed. Updates the record's retirement
 * and idle bookkeeping on the way (`failed`, `busySeen`, `lastUsed`).
 */
export function releaseDue(record: BackingRecord, cfg: MetastaticLabelConfig | undefined, users: number, now: number): boolean {
  // A label gone from the configuration releases at once (1b1eab77b).
  let grace = cfg?.['grace-time'] ?? 0;
  let minRetention = cfg?.['min-retention-time'] ?? 0;
  if (pastMaxAge(record, cfg, now)) record.failed = true;
  if (record.failed) grace = minRetention = 0;
  if (users > 0) {
    // Possibly another launcher's nodes: we never saw them leave, so count idle time from the
    // first pass that sees the node empty.
    record.busySeen = true;
    return false;
  }
  if (record.busySeen && grace > 0) record.lastUsed = Math.max(record.lastUsed, now);
  record.busySeen = false;
  // Zero means "no wait" even within the same clock tick (Python's `>` on a moving clock).
  const graceOver = grace === 0 || now - record.lastUsed > grace;
  const retentionOver = minRetention === 0 || now - record.launched > minRetention;
  return graceOver && retentionOver;
}
