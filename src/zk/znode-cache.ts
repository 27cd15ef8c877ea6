/**
 * A watch-maintained copy of the children of one znode (`/nodepool/nodes` or
 * `/nodepool/requests`) and their data, like Nodepool's tree caches. Readers get the whole set
 * without a ZooKeeper round trip, and listeners hear of every change.
 *
 * With ZooKeeper 3.6+ it follows one persistent recursive watch on the root, as Nodepool's
 * caches do: a create or data change costs one read of that child, a delete none, and the
 * root is never listed again. The server drops that watch with every connection, so each
 * (re)connect re-adds it and reloads everything. Older servers (UNIMPLEMENTED) get one-shot
 * watches: one children watch on the root and one data watch per child, each re-armed by the
 * read that follows its event (a re-list of the root per create or delete): see
 * {@link OneShotWatches}.
 *
 * The copy may lag ZooKeeper by one event; whoever acts on it locks and re-reads first, as with
 * Nodepool's caches. Writes made through this process are folded in at once ({@link noteWrite}),
 * by version, so our own changes are never seen to go backwards. After a session loss every
 * watch is gone without firing: the cache marks itself unsynced and reloads on reconnect.
 */
import type { Logger } from '../plugins/logger';
import type { ZkWatchEvent, ZooKeeperClient } from '../plugins/zookeeper';
import { CatchUpWaiters } from './catch-up-waiters';
import type { CachedZnode, ZnodeCacheListener } from './cached-znode';
import { OneShotWatches } from './one-shot-watches';
import { OwnWrites } from './own-writes';
import { LazyCreates, UNREAD_VERSION } from './lazy-creates';
import { isUnimplemented } from './persistent-watch';
import { compact, Tombstones } from './znode-tombstones';
import { mapLimit } from './zk-path';
import { NoNodeError } from './zk-errors';

export type { CachedZnode, ZnodeCacheListener } from './cached-znode';

const READ_CONCURRENCY = 32;

/** See the module comment. */
export class ZnodeCache {
  private readonly entries = new Map<string, CachedZnode>();
  private readonly listeners = new Set<ZnodeCacheListener>();
  private started = false;
  private synced = false;
  // Bumped on every (re)load: callbacks of watches set in an earlier session are ignored.
  private generation = 0;
  private loading: Promise<void> | undefined;
  /** 'persistent' once the server took our addWatch; 'one-shot' after it answered UNIMPLEMENTED. */
  private mode: 'unknown' | 'persistent' | 'one-shot' = 'unknown';
  /** Persistent mode: the connection dropped, so the watch is gone and events were missed. */
  private missedEvents = false;
  /** Persistent mode: children with a read in flight, and those to read again after it. */
  private readonly reading = new Map<string, number>();
  private readonly readAgain = new Set<string>();
  /** Children seen deleted lately: late read answers for them are dropped (see {@link Tombstones}). */
  private readonly tombstones = new Tombstones();
  /** Persistent mode: events of writes of ours in flight are counted, not read (see {@link OwnWrites}). */
  private readonly ownWrites = new OwnWrites((id, expectedVersion) => {
    if (this.entries.get(id)?.version === expectedVersion || this.mode !== 'persistent' || !this.started) return;
    // Somebody else's create that came while one of ours was in flight.
    if (this.leaveUnread(id)) return;
    void this.readPersistent(id, this.generation);
  });
  private readonly oneShot: OneShotWatches;
  /** Callers of {@link caughtUp} and the children whose reads they wait for. */
  private readonly catchingUp = new CatchUpWaiters();
  /** Persistent mode: children created while a load lists the root (it may not list them). */
  private readonly createdSince = new Set<string>();
  /** Persistent mode: the reads in flight, by child (what {@link freshen} waits for). */
  private readonly reads = new Map<string, Promise<void>>();
  /**
   * Persistent mode: children whose data changed after the version cached, not read (see
   * {@link setLazy}). Cleared only by a read of the cache's own: a read answer that arrives
   * through {@link noteWrite} may be older than the change that made the child stale.
   */
  private readonly stale = new Set<string>();
  private lazy: ((entry: CachedZnode) => boolean) | undefined;
  /**
   * Persistent mode: children created by somebody else and left unread, held as placeholders
   * without data (version -1) until asked for (see {@link LazyCreates}).
   */
  readonly unread: LazyCreates;
  private readonly onPersistentEvent = (event: ZkWatchEvent): void => this.persistentEvent(event);
  private readonly onLost = (): void => {
    this.synced = false;
    this.oneShot.clear();
  };
  private readonly onSuspended = (): void => {
    if (this.mode === 'persistent') this.missedEvents = true;
  };
  private readonly onConnected = (): void => {
    if ((!this.synced || this.missedEvents) && this.started) void this.reload();
  };

  constructor(
    private readonly client: ZooKeeperClient,
    readonly root: string,
    private readonly logger: Logger,
  ) {
    this.unread = new LazyCreates(logger, root, {
      isPlaceholder: (id) => this.entries.get(id)?.version === UNREAD_VERSION,
      freshen: (ids) => this.freshen(ids),
    });
    // The cache's state stays here; the one-shot watches reach it through this narrow view.
    this.oneShot = new OneShotWatches(client, root, READ_CONCURRENCY, {
      isCurrent: (generation) => generation === this.generation,
      isLive: (generation) => generation === this.generation && this.started,
      isSynced: () => this.synced,
      cachedIds: () => [...this.entries.keys()],
      revive: (id) => this.tombstones.delete(id),
      take: (id, data, version, generation) => {
        if (generation !== this.generation || this.tombstones.has(id)) return;
        const old = this.entries.get(id);
        if (!old || old.version < version) this.put({ id, data, version });
      },
      remove: (id) => this.remove(id),
      recover: (err, generation) => this.recover(err, generation),
    });
  }

  /** Whether the copy is complete and kept current (false before start and after a loss). */
  get isSynced(): boolean {
    return this.synced;
  }

  /** Loads everything and starts following changes. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return this.loading;
    this.started = true;
    this.client.on('lost', this.onLost).on('suspended', this.onSuspended).on('connected', this.onConnected).on('reconnected', this.onConnected);
    await this.reload();
  }

  /** How changes are followed (tests; 'unknown' before the first load). */
  get watchMode(): 'unknown' | 'persistent' | 'one-shot' {
    return this.mode;
  }

  /** Stops following changes (watches already set fire into nothing). */
  stop(): void {
    for (const id of [...this.reading.keys()]) this.catchingUp.readDone(id);
    this.started = false;
    this.synced = false;
    this.generation++;
    this.client.off('lost', this.onLost).off('suspended', this.onSuspended).off('connected', this.onConnected).off('reconnected', this.onConnected);
    this.client.removePersistentWatch?.(this.root, this.onPersistentEvent);
    this.unread.clear();
  }

  /** Adds a change listener; returns the unsubscribe function. */
  subscribe(listener: ZnodeCacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All cached children (ids in ZooKeeper's sequence order). */
  values(): CachedZnode[] {
    return [...this.entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Cached child ids, sorted. */
  ids(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** One cached child. */
  get(id: string): CachedZnode | undefined {
    return this.entries.get(id);
  }

  /**
   * Persistent mode: a data change of a cached child that `lazy` accepts (called on the entry
   * as cached) is not read; the child is marked stale and keeps its data until somebody asks
   * for it ({@link freshen}). No change event is emitted for it until then. Creates are always
   * read, deletes never. Undefined: every change is read (the default).
   */
  setLazy(lazy: ((entry: CachedZnode) => boolean) | undefined): void {
    this.lazy = lazy;
  }

  /** Persistent mode: whether the copy is synced with no read in flight (every event so far is in it). */
  get settled(): boolean {
    // One-shot watches re-list and re-read on their own schedule: never known to be settled.
    return this.synced && this.mode === 'persistent' && this.reading.size === 0;
  }

  /** Whether a change of `id` was seen and not read yet (see {@link setLazy}). */
  isStale(id: string): boolean {
    return this.stale.has(id);
  }

  /** Ids of the stale children (see {@link setLazy}); a new array. */
  staleIds(): string[] {
    return [...this.stale];
  }

  /**
   * Reads `ids` (stale children) into the cache and waits for it, a few at a time; a read
   * already in flight is waited for instead. A failed read makes the cache unsynced, as any
   * failed read does.
   */
  async freshen(ids: readonly string[]): Promise<void> {
    await mapLimit(ids, READ_CONCURRENCY, async (id) => {
      if (this.mode !== 'persistent' || !this.started || !this.stale.has(id)) return this.reads.get(id);
      return this.readPersistent(id, this.generation);
    });
  }

  /**
   * Resolves once every read in flight now has ended, re-reads included. Events are handled (and
   * their reads started) as they arrive, ahead of any reply that follows them: after a reply
   * from ZooKeeper, awaiting this makes the copy hold every change ZooKeeper reported before that
   * reply (persistent mode; one-shot mode re-arms per child and is not followed here).
   */
  async caughtUp(): Promise<void> {
    if (this.reading.size === 0) return;
    await this.catchingUp.wait(this.reading.keys());
  }

  /** A write of ours succeeded: take it unless the cache already has something newer. */
  noteWrite(id: string, data: Buffer, version: number): void {
    if (!this.started || this.tombstones.has(id)) return;
    const old = this.entries.get(id);
    if (old && old.version >= version) return;
    this.put({ id, data, version });
  }

  /** A delete of ours succeeded. */
  noteDelete(id: string): void {
    if (this.started) this.remove(id);
  }

  private async reload(): Promise<void> {
    const run = async (): Promise<void> => {
      const generation = ++this.generation;
      this.oneShot.clear();
      this.missedEvents = false;
      // Everything is read afresh below.
      this.ownWrites.clear();
      this.unread.clear();
      try {
        await this.client.ensurePath(this.root);
        if (await this.watchPersistently()) {
          await this.loadAll(generation);
          return;
        }
        const seen = await this.oneShot.readChildren(generation);
        if (generation !== this.generation) return;
        for (const id of [...this.entries.keys()]) if (!seen.has(id)) this.remove(id);
        this.synced = true;
      } catch (err) {
        this.logger.warn(`cache of ${this.root} not loaded: ${(err as Error).message}; reads go to ZooKeeper until it is`);
      }
    };
    this.loading = run().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Adds the persistent watch unless the server lacks it; false means one-shot watches. */
  private async watchPersistently(): Promise<boolean> {
    if (this.mode === 'one-shot' || !this.client.addPersistentWatch) return false;
    try {
      await this.client.addPersistentWatch(this.root, this.onPersistentEvent);
    } catch (err) {
      if (!isUnimplemented(err)) throw err;
      this.mode = 'one-shot';
      this.logger.info(`ZooKeeper has no persistent watches; cache of ${this.root} uses one-shot watches`);
      return false;
    }
    this.mode = 'persistent';
    return true;
  }

  /**
   * Persistent mode: with the watch in place, list the root and read every child, as anything
   * may have changed while no watch was there; drop what is gone.
   */
  private async loadAll(generation: number): Promise<void> {
    const children = await this.client.getChildren(this.root);
    if (generation !== this.generation) return;
    for (const id of children) this.tombstones.delete(id);
    await mapLimit(children, READ_CONCURRENCY, (id) => this.readPersistent(id, generation));
    if (generation !== this.generation) return;
    const listed = new Set(children);
    // Created after the listing: known through its event, not in `children`.
    // (A read still in flight from before does not keep an entry: its answer is ignored now.)
    for (const id of [...this.entries.keys()]) if (!listed.has(id) && !this.createdSince.has(id)) this.remove(id);
    this.createdSince.clear();
    this.synced = true;
  }

  private persistentEvent(event: ZkWatchEvent): void {
    if (!this.started || this.mode !== 'persistent' || event.path.length <= this.root.length + 1) return;
    const id = event.path.slice(this.root.length + 1);
    // Deeper paths are lock dirs and contenders under a node: no data of ours.
    // 'children' only comes for a one-shot watch somebody else set on a child.
    if (id.includes('/') || event.type === 'children') return;
    if (event.type === 'deleted') {
      this.ownWrites.forget(id);
      this.remove(id);
      return;
    }
    // A parent deleted and made again restarts its sequence: the id is a new child now.
    if (event.type === 'created') this.tombstones.delete(id);
    if (event.type === 'created' && this.loading) this.createdSince.add(id);
    // A write of ours may be what changed it.
    if (this.ownWrites.defer(id, event.type === 'created', this.entries.get(id)?.version)) return;
    if (event.type === 'created' && this.leaveUnread(id)) return;
    // A placeholder stays one until asked for, whatever changes.
    if (event.type === 'changed' && this.unread.isUnread(id) && this.reading.get(id) !== this.generation) return;
    // Nobody here wants this child's changes: remember that it changed, read it when asked. A
    // read in flight may have been answered before this change: it reads again instead.
    const entry = this.entries.get(id);
    if (event.type === 'changed' && entry && this.lazy && this.reading.get(id) !== this.generation && this.isLazy(entry)) {
      this.stale.add(id);
      return;
    }
    void this.readPersistent(id, this.generation);
  }

  /**
   * Somebody else's create nobody here wants yet (see {@link LazyCreates}): held as a
   * placeholder, read when asked. False when it is to be read now.
   */
  private leaveUnread(id: string): boolean {
    if (this.loading || this.entries.has(id) || this.reading.has(id) || !this.unread.leave(id)) return false;
    this.entries.set(id, { id, data: Buffer.alloc(0), version: UNREAD_VERSION });
    this.stale.add(id);
    this.unread.add(id);
    return true;
  }

  private isLazy(entry: CachedZnode): boolean {
    try {
      return this.lazy?.(entry) ?? false;
    } catch (err) {
      this.logger.error(`cache of ${this.root}: lazy-read rule failed: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Announces a write of ours to child `id` (undefined: a create, whose name only its reply
   * tells). Call the returned function when the write has ended, after {@link noteWrite} when it
   * succeeded, whatever the outcome.
   */
  beginWrite(id?: string): () => void {
    return this.ownWrites.begin(id);
  }

  /** Reads one child (no watch: the persistent one covers it); one read per child at a time. */
  private readPersistent(id: string, generation: number): Promise<void> {
    if (this.reading.get(id) === generation) {
      this.readAgain.add(id);
      return this.reads.get(id) ?? Promise.resolve();
    }
    const read = this.readLoop(id, generation).finally(() => {
      if (this.reads.get(id) === read) this.reads.delete(id);
    });
    this.reads.set(id, read);
    return read;
  }

  private async readLoop(id: string, generation: number): Promise<void> {
    // A read of an earlier load may still be in flight; it ignores its answer.
    this.reading.set(id, generation);
    try {
      do {
        this.readAgain.delete(id);
        // Any change after this point comes as an event while the read is in flight: read again.
        this.stale.delete(id);
        const { data, stat } = await this.client.get(`${this.root}/${id}`);
        if (generation !== this.generation || this.tombstones.has(id)) return;
        const old = this.entries.get(id);
        if (!old || old.version < stat.version) this.put({ id, data: data ?? Buffer.alloc(0), version: stat.version });
        // A change came while this read was in flight (often a create answered just after another
        // launcher's first write): a child nobody here wants is marked stale instead of read again.
        const entry = this.entries.get(id);
        if (this.readAgain.has(id) && entry && this.lazy && this.isLazy(entry)) {
          this.readAgain.delete(id);
          this.stale.add(id);
        }
      } while (this.readAgain.has(id) && generation === this.generation);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof NoNodeError) this.remove(id);
      else this.recover(err, generation);
    } finally {
      if (this.reading.get(id) === generation) {
        this.reading.delete(id);
        this.readAgain.delete(id);
        this.catchingUp.readDone(id);
      }
    }
  }

  /** A read failed (connection trouble): reload everything once the client is back. */
  private recover(err: unknown, generation: number): void {
    if (generation !== this.generation) return;
    this.logger.debug(`cache of ${this.root}: ${(err as Error).message}; reloading`);
    this.synced = false;
    setTimeout(() => {
      if (this.started && !this.synced && generation === this.generation) void this.reload();
    }, 500).unref();
  }

  private put(entry: CachedZnode): void {
    entry.data = compact(entry.data);
    let old = this.entries.get(entry.id);
    this.entries.set(entry.id, entry);
    // A placeholder nobody heard of: its first read is a create to the listeners.
    if (old?.version === UNREAD_VERSION) {
      this.unread.read(entry.id);
      old = undefined;
    }
    this.emit(entry.id, entry, old);
  }

  private remove(id: string): void {
    const old = this.entries.get(id);
    this.oneShot.disarm(id);
    this.stale.delete(id);
    this.tombstones.bury(id);
    this.unread.forget(id);
    if (!old) return;
    this.entries.delete(id);
    if (old.version !== UNREAD_VERSION) this.emit(id, undefined, old);
  }

  private emit(id: string, current: CachedZnode | undefined, previous: CachedZnode | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(id, current, previous);
      } catch (err) {
        this.logger.error(`cache listener failed: ${(err as Error).message}`);
      }
    }
  }
}
