/**
 * An in-memory copy of the builder's image tree for the web app, so image listings never read
 * ZooKeeper per request. The tree is small (images × builds × providers × uploads) and changes
 * rarely, so instead of a per-znode cache the whole tree is read again after any change: every
 * read arms one shared one-shot watcher on each directory and record (the client keeps one per
 * path), and a change schedules the next read. Reads are serialised; until one completes the
 * previous copy is served. After a session loss (watches gone) or a failed read it reads again.
 */
import type { Logger } from '../plugins/logger';
import type { ZooKeeperClient } from '../plugins/zookeeper';
import { EMPTY_IMAGE_TREE, readImageTree, type ImageTree } from '../zk/image-tree';

/** Wait after a change before reading, ms: a builder writes several znodes in a row. */
const CHANGE_DELAY_MS = 100;
/** Wait before retrying a failed read, ms. */
const RETRY_DELAY_MS = 1000;

/** See the module comment. */
export class ImageTreeCache {
  private tree: ImageTree = EMPTY_IMAGE_TREE;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private readAgain = false;
  private changes = 0;
  /** Problems already logged (`path: reason`), so a bad znode is logged once, not per read. */
  private logged = new Set<string>();
  private readonly onChange = (): void => this.schedule(CHANGE_DELAY_MS);
  private readonly onReconnected = (): void => this.schedule(0);

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly logger: Logger,
  ) {}

  /** Reads the tree once and keeps it current; a failed first read is retried, not thrown. */
  async start(): Promise<void> {
    this.stopped = false;
    this.client.on('reconnected', this.onReconnected);
    await this.read();
  }

  /** Stops reading; pending watches fire into nothing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.off('reconnected', this.onReconnected);
    this.tree = EMPTY_IMAGE_TREE;
  }

  /** The last complete copy. */
  current(): ImageTree {
    return this.tree;
  }

  /** Counts completed reads; tests wait for it to move. */
  get changeCount(): number {
    return this.changes;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.read();
    }, delayMs);
  }

  private async read(): Promise<void> {
    if (this.stopped) return;
    if (this.reading) {
      // A change seen during a read may have been read too early: read once more after it.
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      const tree = await readImageTree(this.client, this.onChange);
      if (this.stopped) return;
      this.tree = tree;
      this.changes++;
      this.logProblems(tree);
    } catch (err) {
      this.logger.warn('image tree: read failed, retrying', { err: (err as Error).message });
      this.schedule(RETRY_DELAY_MS);
    } finally {
      this.reading = false;
    }
    if (this.readAgain) {
      this.readAgain = false;
      this.schedule(0);
    }
  }

  private logProblems(tree: ImageTree): void {
    const now = new Set(tree.problems.map((p) => `${p.path}: ${p.reason}`));
    for (const line of now) if (!this.logged.has(line)) this.logger.warn(`image tree: skipping unreadable ${line}`);
    this.logged = now;
  }
}
