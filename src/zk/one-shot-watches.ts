/**
 * The one-shot watch mode of {@link ZnodeCache}, for servers without persistent watches
 * (before ZooKeeper 3.6): one children watch on the root and one data watch per child, each
 * re-armed by the read that follows its event (a re-list of the root per create or delete).
 */
import type { ZkWatchEvent, ZooKeeperClient } from '../plugins/zookeeper';
import { mapLimit } from './zk-path';
import { NoNodeError } from './zk-errors';

/** What the one-shot watches need of the cache they fill. */
export interface OneShotWatchHost {
  /** Whether `generation` is the current load (callbacks of watches set in an earlier one are ignored). */
  isCurrent(generation: number): boolean;
  /** The same, and the cache is started. */
  isLive(generation: number): boolean;
  isSynced(): boolean;
  /** Cached child ids, in the cache's own order. */
  cachedIds(): string[];
  /** The child is listed again: a late answer for it is no longer to be dropped. */
  revive(id: string): void;
  /** A read answer of `generation`: taken unless stale, deleted since, or older than the cache's. */
  take(id: string, data: Buffer, version: number, generation: number): void;
  remove(id: string): void;
  /** A read failed (connection trouble). */
  recover(err: unknown, generation: number): void;
}

/** See the module comment. */
export class OneShotWatches {
  /** Children whose data watch is armed (one per child: a second would fire twice). */
  private readonly armed = new Set<string>();

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly root: string,
    private readonly concurrency: number,
    private readonly host: OneShotWatchHost,
  ) {}

  /** Every watch is gone (session lost, or a reload sets them afresh). */
  clear(): void {
    this.armed.clear();
  }

  /** The child is gone: its watch fired or will not be needed. */
  disarm(id: string): void {
    this.armed.delete(id);
  }

  /** Lists the children with a watch, reads the new ones; returns the listed ids. */
  async readChildren(generation: number): Promise<Set<string>> {
    const children = await this.client.getChildren(this.root, (event) => this.onRootEvent(event, generation));
    const listed = new Set(children);
    if (!this.host.isCurrent(generation)) return listed;
    for (const id of children) this.host.revive(id);
    const fresh = children.filter((id) => !this.armed.has(id));
    await mapLimit(fresh, this.concurrency, (id) => this.readChild(id, generation));
    if (this.host.isSynced()) for (const id of this.host.cachedIds()) if (!listed.has(id)) this.host.remove(id);
    return listed;
  }

  private onRootEvent(event: ZkWatchEvent, generation: number): void {
    if (!this.host.isLive(generation)) return;
    if (event.type !== 'children') return;
    this.readChildren(generation).catch((err: unknown) => this.host.recover(err, generation));
  }

  /** Reads one child with a data watch (only if none is armed for it). */
  private async readChild(id: string, generation: number): Promise<void> {
    if (this.armed.has(id)) return;
    this.armed.add(id);
    try {
      const { data, stat } = await this.client.get(`${this.root}/${id}`, (event) => this.onChildEvent(id, event, generation));
      this.host.take(id, data ?? Buffer.alloc(0), stat.version, generation);
    } catch (err) {
      this.armed.delete(id);
      if (err instanceof NoNodeError) {
        this.host.remove(id);
        return;
      }
      throw err;
    }
  }

  private onChildEvent(id: string, event: ZkWatchEvent, generation: number): void {
    if (!this.host.isLive(generation)) return;
    this.armed.delete(id);
    if (event.type === 'deleted') {
      this.host.remove(id);
      return;
    }
    this.readChild(id, generation).catch((err: unknown) => this.host.recover(err, generation));
  }
}
