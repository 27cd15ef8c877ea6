/**
 * Measures "used → ready again" for static slots: the time from a nodeset's release to the
 * appearance of a new ready record for the same host and slot, seen through a children watch on
 * the node root (one read per new node).
 */
import type { ZkClient } from '../../src/zk/zk-client';
import { Node } from '../../src/zk/models/node';
import { NODE_ROOT } from '../../src/zk/nodepool-paths';

/** See the module comment. */
export class ReadyWatcher {
  readonly latencies: number[] = [];
  private readonly released = new Map<string, number>();
  private readonly seen = new Set<string>();
  private stopped = false;

  constructor(private readonly client: ZkClient) {}

  async start(): Promise<void> {
    for (const id of await this.client.getChildren(NODE_ROOT)) this.seen.add(id);
    await this.arm();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Notes released nodes (host + slot) and when. */
  noteReleased(nodes: Array<{ hostname: string | null; slot: number | null }>, at: number): void {
    for (const n of nodes) this.released.set(`${n.hostname}#${n.slot}`, at);
  }

  private async arm(): Promise<void> {
    if (this.stopped) return;
    const children = await this.client.getChildren(NODE_ROOT, () => void this.arm().catch(() => undefined));
    for (const id of children) {
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      const at = performance.now();
      try {
        const { data } = await this.client.get(`${NODE_ROOT}/${id}`);
        const node = Node.parse(id, data);
        const key = `${node.hostname}#${node.slot}`;
        const since = this.released.get(key);
        if (since !== undefined && node.state === 'ready') {
          this.released.delete(key);
          this.latencies.push(at - since);
        }
      } catch {
        // Deleted before we read it: not a re-registration.
      }
    }
  }
}
