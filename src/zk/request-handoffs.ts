/**
 * Hand-offs of new requests between nodepool-ts launchers (issue 17). A launcher reads a new
 * request only when one of its pools is the request's reader (the rendezvous choice over the
 * live nodepool-ts pools, known from the request id alone); the others leave it unread. When the
 * reader's pool does not take it (a label it lacks, a provider pin, no free node, paused), it
 * says so with an ephemeral znode `/nodepool/nodepool-ts/request-handoffs/<request id>`, and
 * every other launcher reads the request at once. The znode goes when the request leaves
 * `requested` or with the reader's session. Nodepool and Zuul never look there.
 *
 * The name is the whole message, so a persistent watch on the root is all a launcher needs (no
 * read). A hand-off missed while the connection was down only costs the turn delay: every
 * request left unread is read after it anyway. Without persistent watches (ZooKeeper < 3.6)
 * nothing is left unread, so there is nothing to hand over either.
 */
import type { Logger } from '../plugins/logger';
import type { ZkWatchEvent, ZooKeeperClient } from '../plugins/zookeeper';
import { NodeExistsError, NoNodeError } from './zk-errors';

/** Where hand-offs are announced. */
export const HANDOFF_ROOT = '/nodepool/nodepool-ts/request-handoffs';

/** See the module comment. */
export class RequestHandOffs {
  private readonly ours = new Set<string>();
  private started = false;
  private readonly onEvent = (event: ZkWatchEvent): void => {
    if (event.type !== 'created' || !event.path.startsWith(`${HANDOFF_ROOT}/`)) return;
    const id = event.path.slice(HANDOFF_ROOT.length + 1);
    if (!id.includes('/') && !this.ours.has(id)) this.onHandOff(id);
  };
  // The server drops persistent watches with each connection.
  private readonly onConnected = (): void => void this.watch();

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly logger: Logger,
    /** Another launcher handed request `id` over. */
    private readonly onHandOff: (id: string) => void,
  ) {}

  async start(): Promise<void> {
    if (this.started || !this.client.addPersistentWatch) return;
    this.started = true;
    this.client.on('connected', this.onConnected).on('reconnected', this.onConnected);
    await this.watch();
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.client.off('connected', this.onConnected).off('reconnected', this.onConnected);
    this.client.removePersistentWatch?.(HANDOFF_ROOT, this.onEvent);
  }

  private async watch(): Promise<void> {
    if (!this.started) return;
    try {
      await this.client.ensurePath(HANDOFF_ROOT);
      this.client.removePersistentWatch?.(HANDOFF_ROOT, this.onEvent);
      await this.client.addPersistentWatch?.(HANDOFF_ROOT, this.onEvent);
    } catch (err) {
      this.logger.debug(`no watch on ${HANDOFF_ROOT}: ${(err as Error).message}; requests left unread wait for the turn delay`);
    }
  }

  /** Announces that our reader pool leaves request `id` to the others. */
  async handOff(id: string): Promise<void> {
    this.ours.add(id);
    try {
      await this.client.create(`${HANDOFF_ROOT}/${id}`, Buffer.alloc(0), { ephemeral: true, makeParents: true });
    } catch (err) {
      if (!(err instanceof NodeExistsError)) {
        this.ours.delete(id);
        throw err;
      }
    }
  }

  /** Removes our announcement for request `id` (it left `requested` or is gone). */
  async end(id: string): Promise<void> {
    if (!this.ours.delete(id)) return;
    await this.client.delete(`${HANDOFF_ROOT}/${id}`).catch((err: unknown) => {
      if (!(err instanceof NoNodeError)) throw err;
    });
  }
}
