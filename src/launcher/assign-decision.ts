import type { NodeRequest } from '../zk/models/node-request';
import type { PoolComponentRecord } from '../zk/models/component';
import { distinctLabels, labelList } from './request-order';

/** Our own pool, as the decision rules need it. */
export interface OwnPool {
  /** Pool launcher id (also in `declined_by`). */
  id: string;
  provider: string;
  /** Effective priority (lower wins). */
  priority: number;
  labels: ReadonlySet<string>;
}

/** What a pool does with a request in this pass. */
export type AssignDecision =
  | { action: 'skip'; reason: string }
  | { action: 'decline'; reason: string }
  | { action: 'consider' };

/**
 * The routing rules of Nodepool's `_assignHandlers` that need no quota or driver knowledge
 * (spec §4.3 steps 1-5, checklist §7.11-12): skip what is not `requested` or already declined by
 * us; yield to the preferred provider and to online pools of strictly lower priority; leave a
 * request we cannot fully serve to a pool that can, and decline it only when no registered pool
 * can. `registered` is every pool component currently in ZooKeeper (ours included).
 */
export function assignDecision(request: NodeRequest, own: OwnPool, registered: readonly PoolComponentRecord[]): AssignDecision {
  if (request.state !== 'requested') return { action: 'skip', reason: `state is ${request.state}` };
  if (request.declined_by.includes(own.id)) return { action: 'skip', reason: 'already declined by us' };
  const labels = distinctLabels(request);
  const candidates = registered.filter(
    (p) => p.id !== own.id && !request.declined_by.includes(p.id) && labels.every((l) => p.supported_labels.includes(l)),
  );
  if (request.provider && request.provider !== own.provider && candidates.some((p) => p.provider_name === request.provider)) {
    return { action: 'skip', reason: `preferred provider ${request.provider} can serve it` };
  }
  const lacking = labels.filter((l) => !own.labels.has(l));
  // Priority only matters among pools that could serve it at all; a lacking pool is handled below.
  if (lacking.length === 0 && candidates.some((p) => p.priority < own.priority && !p.paused)) {
    return { action: 'skip', reason: 'a pool with a lower priority number can serve it' };
  }
  if (lacking.length > 0) {
    if (candidates.length > 0) return { action: 'skip', reason: 'another pool has all its labels' };
    return { action: 'decline', reason: `no pool supports label(s) ${labelList(lacking)}` };
  }
  return { action: 'consider' };
}

/**
 * Nodepool's decline rule (spec §4.3, DRV:687-699): add our id to `declined_by` once; the
 * request fails when every currently registered pool id has declined it, else it goes back to
 * `requested` for the others. Mutates and returns the request; the caller stores it under lock.
 */
export function applyDecline(request: NodeRequest, ownId: string, registered: readonly PoolComponentRecord[]): NodeRequest {
  if (!request.declined_by.includes(ownId)) request.declined_by.push(ownId);
  const allDeclined = registered.every((p) => request.declined_by.includes(p.id));
  request.state = allDeclined ? 'failed' : 'requested';
  return request;
}
