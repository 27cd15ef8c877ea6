/**
 * The reader pool's side of request hand-offs (issue 17, see src/zk/request-handoffs.ts): a
 * pool that is a new request's reader (only its launcher read the request) and did not take it
 * in a pass tells the other launchers, once; the word is withdrawn when the request is no
 * longer `requested`.
 */
import type { Logger } from '../plugins/logger';
import type { ZooKeeper } from '../plugins/zookeeper';
import type { PoolComponentRecord } from '../zk/models/component';
import type { NodeRequest } from '../zk/models/node-request';
import { requestReader } from './rendezvous';

/** See the module comment. One per pool worker. */
export class ReaderHandOffs {
  private readonly handedOff = new Set<string>();

  constructor(
    private readonly ownId: string,
    private readonly zk: ZooKeeper,
    private readonly log: Logger,
  ) {}

  /**
   * After a pass: `looked` are the requests the pass judged on current data, `taken` the ids it
   * took (locked, fulfilled, launched), `requested` every request `requested` at its start.
   */
  afterPass(looked: readonly NodeRequest[], taken: ReadonlySet<string>, requested: readonly NodeRequest[], registered: readonly PoolComponentRecord[]): void {
    if (!this.zk.handOffRequest) return;
    if (this.handedOff.size > 0) {
      const live = new Set(requested.map((r) => r.id));
      for (const id of [...this.handedOff]) if (!live.has(id)) this.end(id);
    }
    for (const request of looked) {
      const id = request.id as string;
      if (taken.has(id) || this.handedOff.has(id) || requestReader(id, registered)?.id !== this.ownId) continue;
      this.handedOff.add(id);
      this.zk.handOffRequest(id).catch((err: unknown) => this.log.warn('cannot hand a request over', { request: id, err: (err as Error).message }));
    }
  }

  /** Withdraws every hand-off (the pool stops). */
  stop(): void {
    for (const id of [...this.handedOff]) this.end(id);
  }

  private end(id: string): void {
    this.handedOff.delete(id);
    this.zk.endRequestHandOff?.(id).catch((err: unknown) => this.log.debug('cannot withdraw a request hand-over', { request: id, err: (err as Error).message }));
  }
}
