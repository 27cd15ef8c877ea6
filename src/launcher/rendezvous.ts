/**
 * Work split among nodepool-ts launchers (issue 17): every pool computes, for each request, a
 * rendezvous (highest-random-weight) preference over the live nodepool-ts pools that could take
 * it, from the pool component records. The preferred pool takes the request at once; the others
 * only after a bounded delay, or at once when the preferred pool visibly cannot serve it from
 * ready nodes while they might. A launcher that dies drops its ephemeral records and so leaves
 * the candidate set; a slow one costs at most the delay. Pools of launchers that do not hash
 * (Python Nodepool) are not ordered: where one could take a request, everybody races for it as
 * in Nodepool. This only orders who TAKES a request; declines are untouched (Nodepool's rule).
 */
import { NODEPOOL_TS_VERSION_SUFFIX } from '../plugins/launcher-fleet';
import type { PoolComponentRecord } from '../zk/models/component';
import type { Node } from '../zk/models/node';
import type { NodeRequest } from '../zk/models/node-request';
import type { OwnPool } from './assign-decision';
import { distinctLabels } from './request-order';

/** Default wait of a non-preferred pool before it takes a request anyway, ms. */
export const DEFAULT_RENDEZVOUS_DELAY_MS = 1500;

/**
 * The rendezvous weight of (pool id, request id): FNV-1a over both (NUL-separated), finished
 * with murmur3's avalanche so ids differing in their last characters spread evenly. Stable
 * across processes and versions: every launcher must compute the same preference.
 */
export function rendezvousWeight(poolId: string, requestId: string): number {
  let h = 0x811c9dc5;
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  feed(poolId);
  feed('\0');
  feed(requestId);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The pool with the highest weight for `requestId` (ties by id); undefined for none. */
export function preferredPool<T extends { id: string }>(requestId: string, pools: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestWeight = -1;
  for (const pool of pools) {
    const w = rendezvousWeight(pool.id, requestId);
    if (w > bestWeight || (w === bestWeight && best !== undefined && pool.id < best.id)) {
      best = pool;
      bestWeight = w;
    }
  }
  return best;
}

/** Whether a component record was written by nodepool-ts (which hashes). */
export function hashingPool(record: Pick<PoolComponentRecord, 'version'>): boolean {
  return record.version.endsWith(NODEPOOL_TS_VERSION_SUFFIX);
}

/** What {@link takeTurn} decided for one request. */
export type TakeTurn =
  | { take: true; why: 'preferred' | 'foreign-race' | 'preferred-cannot-serve' | 'waited' }
  | { take: false; preferred: string; waitMs: number };

/** The inputs of {@link takeTurn} besides the request and the pools. */
export interface TakeTurnOptions {
  /** How long this pool has seen the request `requested`, ms. */
  waitedMs: number;
  /** Bounded wait of a non-preferred pool, ms; 0 turns the split off (everybody races). */
  delayMs: number;
  /**
   * Whether the preferred pool could serve the request from its ready nodes now (and counts
   * them as promised to it). Omitted: assumed yes (it may launch).
   */
  preferredCanServe?: (preferred: PoolComponentRecord) => boolean;
}

/**
 * Whether `own` takes `request` now (see the module comment). Called only for requests the
 * Nodepool rules let this pool consider (`assignDecision` said `consider`), so pools with a
 * strictly lower priority number are paused or absent here, and pools with a higher number
 * yield to us and are no candidates.
 */
export function takeTurn(request: NodeRequest, own: OwnPool, registered: readonly PoolComponentRecord[], options: TakeTurnOptions): TakeTurn {
  if (options.delayMs <= 0 || !request.id) return { take: true, why: 'preferred' };
  const labels = distinctLabels(request);
  const preferProvider = request.provider && request.provider === own.provider ? request.provider : undefined;
  const others = registered.filter(
    (p) =>
      p.id !== own.id &&
      !p.paused &&
      !request.declined_by.includes(p.id) &&
      p.priority <= own.priority &&
      (!preferProvider || p.provider_name === preferProvider) &&
      labels.every((l) => p.supported_labels.includes(l)),
  );
  if (others.some((p) => !hashingPool(p))) return { take: true, why: 'foreign-race' };
  const preferred = preferredPool(request.id, [...others, { id: own.id } as PoolComponentRecord]);
  if (!preferred || preferred.id === own.id) return { take: true, why: 'preferred' };
  if (options.waitedMs >= options.delayMs) return { take: true, why: 'waited' };
  if (options.preferredCanServe && !options.preferredCanServe(preferred)) return { take: true, why: 'preferred-cannot-serve' };
  return { take: false, preferred: preferred.id, waitMs: options.delayMs - options.waitedMs };
}

/**
 * Free ready nodes per (provider, pool, label) from a pass's view of `/nodepool/nodes`: what a
 * preferred pool that serves from ready nodes has to offer. {@link claim} counts the nodes of
 * requests left to it, so a pool with 3 free nodes is not waited for on the 4th request.
 */
export class ReadyCapacity {
  private readonly free = new Map<string, number>();

  constructor(nodes: readonly Node[]) {
    for (const n of nodes) {
      if (n.state !== 'ready' || n.allocated_to || !n.provider) continue;
      for (const label of new Set(n.type)) {
        const key = capacityKey(n.provider, n.pool ?? '', label);
        this.free.set(key, (this.free.get(key) ?? 0) + 1);
      }
    }
  }

  /**
   * Whether `pool` has a free node for every entry of `labels` (a multiset), and if so counts
   * them as taken. A node with several labels counts once per label: an estimate that errs on
   * the side of waiting, bounded by the delay.
   */
  claim(pool: Pick<PoolComponentRecord, 'provider_name' | 'name'>, labels: readonly string[]): boolean {
    const need = new Map<string, number>();
    for (const l of labels) need.set(l, (need.get(l) ?? 0) + 1);
    for (const [label, n] of need) if ((this.free.get(capacityKey(pool.provider_name, pool.name, label)) ?? 0) < n) return false;
    for (const [label, n] of need) {
      const key = capacityKey(pool.provider_name, pool.name, label);
      this.free.set(key, (this.free.get(key) ?? 0) - n);
    }
    return true;
  }
}

function capacityKey(provider: string, pool: string, label: string): string {
  return `${provider}\0${pool}\0${label}`;
}

/**
 * The pool that reads a new request first (issue 17): the rendezvous choice for `requestId`
 * over the unpaused pools, from the id alone (labels, pinning and declines are in the data).
 * When it can take the request it is also the choice of {@link takeTurn} (which weighs a subset
 * of these pools). Undefined when a pool that does not hash is registered (everybody reads and
 * races, as in Nodepool) or none is.
 */
export function requestReader(requestId: string, registered: readonly PoolComponentRecord[]): PoolComponentRecord | undefined {
  if (registered.some((p) => !hashingPool(p))) return undefined;
  return preferredPool(
    requestId,
    registered.filter((p) => !p.paused),
  );
}
