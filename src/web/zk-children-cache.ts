/**
 * An in-memory copy of one ZooKeeper parent's children (their parsed data, and optionally
 * whether each child's `lock` dir has contenders), kept current by one-shot watches, so readers
 * never touch ZooKeeper. This is what Nodepool's TreeCache gives its web app.
 *
 * Per child it holds at most three watches: data of the child, children of the child (to see its
 * `lock` dir appear and vanish) and children of the lock dir. No `exists` watches are left on
 * paths that are gone, so deleted nodes leave nothing behind in the client. After a session loss
 * (new session) or a failed read the whole copy is rebuilt in the background and swapped in when
 * complete; until then the previous copy is served.
 */
import type { Logger } from '../plugins/logger';
import type { ZkWatchEvent, ZooKeeperClient } from '../plugins/zookeeper';
import { NoNodeError } from '../zk/zk-errors';
import { mapLimit } from '../zk/zk-path';

/** Reads in flight while (re)building the copy. */
const SYNC_CONCURRENCY = 64;
/** Pause before rebuilding after a failed read, ms. */
const RESYNC_DELAY_MS = 1000;

/** How to build a {@link ZkChildrenCache}. */
export interface ZkChildrenCacheOptions<T> {
  client: ZooKeeperClient;
  /** The parent, e.g. `/nodepool/nodes`. */
  path: string;
  /** Parses one child's data; undefined (or a throw, logged) leaves the child out. */
  parse: (name: string, data: Buffer | null, path: string) => T | undefined;
  /** Track `<child>/lock` contenders (node locks). */
  trackLocks?: boolean;
  logger: Logger;
  /** Called after each applied change (the dashboard's event stream); must not throw. */
  onChange?: () => void;
}

/** One cached child. */
export interface CachedChild<T> {
  name: string;
  value: T;
  /** Whether the child's lock dir has any child (Nodepool's cache rule); false when untracked. */
  locked: boolean;
}

interface Entry<T> {
  name: string;
  value: T | undefined;
  locked: boolean;
  onData: (event: ZkWatchEvent) => void;
  onChildren: (event: ZkWatchEvent) => void;
  onLock: (event: ZkWatchEvent) => void;
}

/** One copy of the tree; watches of a copy that was replaced are ignored. */
interface Generation<T> {
  entries: Map<string, Entry<T>>;
  onParent: (event: ZkWatchEvent) => void;
  /** Entries sorted by name, rebuilt only when the set of names changed (listing 6000 nodes). */
  sorted: Entry<T>[] | undefined;
}

/** See the module comment. */
export class ZkChildrenCache<T> {
  private live: Generation<T> | undefined;
  private served: Generation<T> | undefined;
  private stopped = true;
  private resyncTimer: NodeJS.Timeout | undefined;
  private changes = 0;
  private readonly onReconnected = (): void => this.scheduleResync(0);

  constructor(private readonly options: ZkChildrenCacheOptions<T>) {}

  /** Loads the children and sets the watches; resolves when the first copy is complete. */
  async start(): Promise<void> {
    this.stopped = false;
    this.options.client.on('reconnected', this.onReconnected);
    await this.sync();
  }

  /** Drops the copy; pending watches fire into nothing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    this.options.client.off('reconnected', this.onReconnected);
    this.live = undefined;
    this.served = undefined;
  }

  /** The cached children with readable data, in ZooKeeper name order. */
  list(): CachedChild<T>[] {
    const gen = this.served;
    if (!gen) return [];
    gen.sorted ??= [...gen.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: CachedChild<T>[] = [];
    for (const e of gen.sorted) if (e.value !== undefined) out.push({ name: e.name, value: e.value, locked: e.locked });
    return out;
  }

  /** One cached child, or undefined. */
  get(name: string): CachedChild<T> | undefined {
    const e = this.served?.entries.get(name);
    return e && e.value !== undefined ? { name, value: e.value, locked: e.locked } : undefined;
  }

  /** Counts every applied change; tests and callers can wait for it to move. */
  get changeCount(): number {
    return this.changes;
  }

  private changed(): void {
    this.changes++;
    this.options.onChange?.();
  }

  private async sync(): Promise<void> {
    const gen: Generation<T> = { entries: new Map(), onParent: () => undefined, sorted: undefined };
    gen.onParent = () => {
      if (this.live === gen) void this.guard(gen, () => this.listChildren(gen));
    };
    this.live = gen;
    await this.listChildren(gen);
    if (this.live === gen) {
      this.served = gen;
      this.changed();
    }
  }

  /** Runs a watch-triggered read; a failure other than a vanished znode rebuilds the copy. */
  private async guard(gen: Generation<T>, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      if (this.live === gen) this.changed();
    } catch (err) {
      if (this.live !== gen || this.stopped) return;
      this.options.logger.warn(`cache of ${this.options.path}: read failed, rebuilding`, { err: (err as Error).message });
      this.scheduleResync(RESYNC_DELAY_MS);
    }
  }

  private scheduleResync(delayMs: number): void {
    if (this.stopped || this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      if (this.stopped) return;
      this.sync().catch((err: unknown) => {
        this.options.logger.warn(`cache of ${this.options.path}: rebuild failed, retrying`, { err: (err as Error).message });
        this.scheduleResync(RESYNC_DELAY_MS);
      });
    }, delayMs);
  }

  private async listChildren(gen: Generation<T>): Promise<void> {
    const { client, path } = this.options;
    let names: string[];
    try {
      names = await client.getChildren(path, gen.onParent);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      // Nothing there yet (fresh ZooKeeper): wait for the parent to appear.
      if (await client.exists(path, gen.onParent)) return this.listChildren(gen);
      gen.entries.clear();
      gen.sorted = undefined;
      return;
    }
    if (this.live !== gen) return;
    const present = new Set(names);
    for (const name of gen.entries.keys()) {
      if (!present.has(name)) {
        gen.entries.delete(name);
        gen.sorted = undefined;
      }
    }
    const fresh = names.filter((n) => !gen.entries.has(n)).map((n) => this.newEntry(gen, n));
    await mapLimit(fresh, SYNC_CONCURRENCY, async (entry) => {
      await this.readData(gen, entry);
      if (this.options.trackLocks) await this.readChildren(gen, entry);
    });
  }

  private newEntry(gen: Generation<T>, name: string): Entry<T> {
    const current = (): boolean => this.live === gen && gen.entries.get(name) === entry;
    const entry: Entry<T> = {
      name,
      value: undefined,
      locked: false,
      onData: (event) => {
        if (!current()) return;
        if (event.type === 'deleted') {
          gen.entries.delete(name);
          gen.sorted = undefined;
          this.changed();
        } else void this.guard(gen, () => this.readData(gen, entry));
      },
      onChildren: (event) => {
        if (current() && event.type !== 'deleted') void this.guard(gen, () => this.readChildren(gen, entry));
      },
      onLock: (event) => {
        if (!current()) return;
        // A deleted lock dir also changes the child list of the node, which re-reads it.
        if (event.type === 'deleted') entry.locked = false;
        else void this.guard(gen, () => this.readLock(gen, entry));
      },
    };
    gen.entries.set(name, entry);
    gen.sorted = undefined;
    return entry;
  }

  private childPath(name: string): string {
    return `${this.options.path}/${name}`;
  }

  private async readData(gen: Generation<T>, entry: Entry<T>): Promise<void> {
    const path = this.childPath(entry.name);
    try {
      const { data } = await this.options.client.get(path, entry.onData);
      if (gen.entries.get(entry.name) !== entry) return;
      try {
        entry.value = this.options.parse(entry.name, data, path);
      } catch (err) {
        entry.value = undefined;
        this.options.logger.warn(`cache of ${this.options.path}: skipping unreadable ${path}`, { err: (err as Error).message });
      }
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      if (gen.entries.get(entry.name) === entry) {
        gen.entries.delete(entry.name);
        gen.sorted = undefined;
      }
    }
  }

  private async readChildren(gen: Generation<T>, entry: Entry<T>): Promise<void> {
    let children: string[];
    try {
      children = await this.options.client.getChildren(this.childPath(entry.name), entry.onChildren);
    } catch (err) {
      if (err instanceof NoNodeError) return; // the data watch removes the entry
      throw err;
    }
    if (gen.entries.get(entry.name) !== entry) return;
    if (children.includes('lock')) await this.readLock(gen, entry);
    else entry.locked = false;
  }

  private async readLock(gen: Generation<T>, entry: Entry<T>): Promise<void> {
    try {
      const contenders = await this.options.client.getChildren(`${this.childPath(entry.name)}/lock`, entry.onLock);
      if (gen.entries.get(entry.name) === entry) entry.locked = contenders.length > 0;
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      if (gen.entries.get(entry.name) === entry) entry.locked = false;
    }
  }
}
