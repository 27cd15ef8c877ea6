/**
 * A pool worker's side of the rendezvous work split (src/launcher/rendezvous.ts): when it first
 * left each request to another pool, and a pass when the first such wait ends, so a request of a
 * silent preferred pool is taken after the delay rather than at the next slow poll.
 */
import type { PoolComponentRecord } from '../zk/models/component';
import type { NodeRequest } from '../zk/models/node-request';
import type { OwnPool } from './assign-decision';
import { DEFAULT_RENDEZVOUS_DELAY_MS, takeTurn, type ReadyCapacity } from './rendezvous';

/** See the module comment. One per pool worker. */
export class RendezvousTurns {
  private readonly firstSeen = new Map<string, number>();
  private nextWait = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly own: OwnPool,
    /** Wait of a pool that is not a request's choice, ms (default 1500; 0: everybody races). */
    private readonly delayMs: number | undefined,
    /** Asks the worker for a pass. */
    private readonly wake: () => void,
    /** When a request left unread at its create was first seen (0: handed over; see ZooKeeper.requestSeenAt). */
    private readonly seenAt: (id: string) => number | undefined = () => undefined,
  ) {}

  /**
   * Whether this pool takes `request` now. `capacity`: this pool serves from ready nodes, so a
   * preferred pool without free ones for the request is not waited for.
   */
  mayTake(request: NodeRequest, registered: readonly PoolComponentRecord[], capacity?: ReadyCapacity): boolean {
    const now = Date.now();
    const id = request.id as string;
    // A request read late (handed over, or after the delay) has waited since its create.
    const seen = this.firstSeen.get(id) ?? this.seenAt(id) ?? now;
    const turn = takeTurn(request, this.own, registered, {
      waitedMs: now - seen,
      delayMs: this.delayMs ?? DEFAULT_RENDEZVOUS_DELAY_MS,
      preferredCanServe: capacity && ((p) => capacity.claim(p, request.node_types)),
    });
    if (turn.take) return true;
    this.firstSeen.set(id, seen);
    this.nextWait = Math.min(this.nextWait, turn.waitMs);
    return false;
  }

  /**
   * Whether this pool would leave `request` to another pool now, from the request and the pool
   * records alone (no wait counted, the preferred pool assumed able to serve it).
   */
  wouldWait(request: NodeRequest, registered: readonly PoolComponentRecord[]): boolean {
    return !takeTurn(request, this.own, registered, { waitedMs: 0, delayMs: this.delayMs ?? DEFAULT_RENDEZVOUS_DELAY_MS }).take;
  }

  /** Ends a pass over `requested` (all requests still `requested`): forgets the others, arms the wake. */
  endPass(requested: readonly NodeRequest[]): void {
    if (this.firstSeen.size > 0) {
      const live = new Set(requested.map((r) => r.id));
      for (const id of this.firstSeen.keys()) if (!live.has(id)) this.firstSeen.delete(id);
    }
    const wait = this.nextWait;
    this.nextWait = Infinity;
    if (wait === Infinity || this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, Math.max(20, wait));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
