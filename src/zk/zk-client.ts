/**
 * ZkClient: a promise API over node-zookeeper-client with the session handling Nodepool needs.
 *
 * The library reconnects within a session but never after SESSION_EXPIRED, and during a silent
 * network cut it only reports `disconnected`. ZkClient therefore owns a replaceable
 * {@link ZkSession}: on expiry, or when no reconnect happens within the session timeout, it
 * declares the session lost, drops the old library client, starts a new one (a new session) and
 * re-creates the ephemeral registrations. All state lives on the instance.
 */
import { EventEmitter } from 'node:events';
import type { Event as LibEvent, Stat as LibStat } from 'node-zookeeper-client';
import type { RawClient } from './library-internals';
import type { Logger } from '../plugins/logger';
import type {
  EphemeralRegistration, ZkClientEvents, ZkConnectionState, ZkCreateOptions, ZkOp, ZkOpResult,
  ZkWatcher, ZnodeStat, ZooKeeperClient,
} from '../plugins/zookeeper';
import { Registration } from './ephemeral-registration';
import { loadTls, type LoadedTls, type ZkTlsOptions } from './tls-connection';
import { ConnectionLossError, NodeExistsError, NoNodeError, NotEmptyError, ZK_ERROR_CODES, ZkError } from './zk-errors';
import { buildConnectString, joinPath, mapLimit, normalizeChroot, parentPath } from './zk-path';
import { PERSISTENT_RECURSIVE, queueAddWatch, toPersistentEvent, type RawNotification } from './persistent-watch';
import { commitMulti, createFlags, queueSequentialDirCreate } from './zk-raw-requests';
import { ZkSession } from './zk-session';
import { ZkTransaction } from './zk-transaction';
import { toWatchEvent, toZnodeStat } from './znode-stat';

/** Options of a {@link ZkClient}. */
export interface ZkClientOptions {
  /** `host:port[,host:port...][/chroot]`. */
  hosts: string;
  /** Chroot; overrides one given in `hosts`. */
  chroot?: string;
  /** Requested session timeout in ms (Nodepool default 10 s). */
  sessionTimeout?: number;
  /** Mutual TLS (cert, key, CA); plain TCP when absent. */
  tls?: ZkTlsOptions;
  /** Max random pause between rounds of connection attempts, ms. */
  spinDelay?: number;
  /** Where connection events are logged. */
  logger?: Logger;
  /**
   * Use persistent recursive watches when the server has them (default true). False makes
   * `addPersistentWatch` answer UNIMPLEMENTED as a pre-3.6 server would (tests of the fallback).
   */
  persistentWatches?: boolean;
}

const EMPTY = Buffer.alloc(0);
/** How often a deleteRecursive retries a node that gained children meanwhile. */
const NOT_EMPTY_RETRIES = 5;

/** The ZooKeeper client; see the module comment. */
export class ZkClient implements ZooKeeperClient {
  /**
   * Requests sent, by operation (`get`, `set`, `create`, `getChildren`, `multi`, ...), counted at
   * the client for benchmarks and metrics. Never reset by the client.
   */
  readonly operationCounts: Record<string, number> = {};

  private readonly emitter = new EventEmitter();
  private readonly connectString: string;
  private readonly tls: LoadedTls | undefined;
  private session: ZkSession | undefined;
  private lastConnected: ZkSession | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private connState: ZkConnectionState = 'idle';
  private readonly registrations = new Set<Registration>();
  // Persistent recursive watches of the current connection, by root.
  /** Listeners by watched root, with the root's `root/` prefix made once (every event is matched against it). */
  private readonly persistentWatches = new Map<string, { prefix: string; listeners: Set<ZkWatcher> }>();
  // Keeps the library-side wrapper of a watcher stable, so the library's per-path de-duplication
  // of identical watchers still works.
  private readonly watchWrappers = new WeakMap<ZkWatcher, (event: LibEvent) => void>();

  constructor(private readonly options: ZkClientOptions) {
    this.connectString = buildConnectString(options.hosts, options.chroot);
    this.tls = options.tls ? loadTls(options.tls) : undefined;
    // Many locks and caches listen for 'lost'; that is not a leak.
    this.emitter.setMaxListeners(0);
  }

  /** The chroot all paths are relative to, if any. */
  get chroot(): string | undefined {
    return normalizeChroot(this.connectString.includes('/') ? this.connectString.slice(this.connectString.indexOf('/')) : undefined);
  }

  get state(): ZkConnectionState {
    return this.connState;
  }

  get sessionId(): string | null {
    return this.session?.sessionId ?? null;
  }

  /** Negotiated session timeout in ms. */
  get sessionTimeout(): number {
    return this.session?.timeout ?? this.options.sessionTimeout ?? 10000;
  }

  /** Session id and password of the current session (diagnostics and expiry tests). */
  sessionCredentials(): { id: Buffer; password: Buffer } | null {
    const raw = this.session?.raw;
    return raw && this.session?.sessionId ? { id: raw.getSessionId(), password: raw.getSessionPassword() } : null;
  }

  /** Connects; rejects with ConnectionLossError (naming the last socket error) after `timeoutMs`. */
  async connect(timeoutMs = 15000): Promise<void> {
    if (this.connState === 'closed') throw new ConnectionLossError('/', 'client closed');
    if (this.connState === 'connected') return;
    if (!this.session) {
      this.connState = 'connecting';
      this.session = this.newSession();
      this.session.start();
    }
    const session = this.session;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        const cause = session.lastError ? `: ${session.lastError.message.trim()}` : '';
        if (this.session === session && this.lastConnected === undefined) {
          session.dispose('closed');
          this.session = undefined;
          this.connState = 'idle';
        }
        reject(new ConnectionLossError('/', `no connection to ${this.connectString} within ${timeoutMs} ms${cause}`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /** Ends the session (its ephemerals go with it) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.connState === 'closed') return;
    this.connState = 'closed';
    this.clearLostTimer();
    const session = this.session;
    this.session = undefined;
    await session?.close();
    this.emitter.emit('closed');
  }

  on<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this {
    this.emitter.off(event, listener);
    return this;
  }

  async create(path: string, data: Buffer = EMPTY, options: ZkCreateOptions = {}): Promise<string> {
    try {
      return await this.createOnce(path, data, options);
    } catch (err) {
      if (!options.makeParents || !(err instanceof NoNodeError)) throw err;
      await this.ensurePath(parentPath(path));
      return this.createOnce(path, data, options);
    }
  }

  async get(path: string, watch?: ZkWatcher): Promise<{ data: Buffer | null; stat: ZnodeStat }> {
    const w = this.wrapWatcher(watch);
    return this.run(path, 'get', (raw, done) => {
      const cb = (err: unknown, data?: Buffer, stat?: LibStat): void =>
        err ? done(err) : done(null, { data: data ?? null, stat: toZnodeStat(stat as LibStat) });
      if (w) raw.getData(path, w, cb);
      else raw.getData(path, cb);
    });
  }

  async set(path: string, data: Buffer, version = -1): Promise<ZnodeStat> {
    return this.run(path, 'set', (raw, done) =>
      raw.setData(path, data, version, (err: unknown, stat?: LibStat) => (err ? done(err) : done(null, toZnodeStat(stat as LibStat)))),
    );
  }

  async exists(path: string, watch?: ZkWatcher): Promise<ZnodeStat | null> {
    const w = this.wrapWatcher(watch);
    return this.run(path, 'exists', (raw, done) => {
      const cb = (err: unknown, stat?: LibStat | null): void => (err ? done(err) : done(null, stat ? toZnodeStat(stat) : null));
      if (w) raw.exists(path, w, cb);
      else raw.exists(path, cb);
    });
  }

  async getChildren(path: string, watch?: ZkWatcher): Promise<string[]> {
    const w = this.wrapWatcher(watch);
    return this.run(path, 'getChildren', (raw, done) => {
      const cb = (err: unknown, children?: string[]): void => (err ? done(err) : done(null, children ?? []));
      if (w) raw.getChildren(path, w, cb);
      else raw.getChildren(path, cb);
    });
  }

  async delete(path: string, version = -1): Promise<void> {
    return this.run(path, 'delete', (raw, done) => raw.remove(path, version, (err: unknown) => done(err)));
  }

  /**
   * kazoo's recursive delete: list children, delete each subtree depth-first, then the node.
   * Not atomic; a vanished node is fine, a node that gained children meanwhile is retried.
   * (The library's removeRecursive is broken for deeper trees.)
   */
  async deleteRecursive(path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let children: string[];
      try {
        children = await this.getChildren(path);
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      await mapLimit(children, 16, (child) => this.deleteRecursive(joinPath(path, child)));
      try {
        await this.delete(path);
        return;
      } catch (err) {
        if (err instanceof NoNodeError) return;
        if (!(err instanceof NotEmptyError) || attempt >= NOT_EMPTY_RETRIES) throw err;
      }
    }
  }

  /** kazoo's ensure_path: missing ancestors and the path become persistent empty znodes. */
  async ensurePath(path: string): Promise<void> {
    if (await this.exists(path)) return;
    try {
      await this.createOnce(path, EMPTY, {});
    } catch (err) {
      if (err instanceof NodeExistsError) return;
      if (!(err instanceof NoNodeError) || path === '/') throw err;
      await this.ensurePath(parentPath(path));
      try {
        await this.createOnce(path, EMPTY, {});
      } catch (again) {
        if (!(again instanceof NodeExistsError)) throw again;
      }
    }
  }

  /**
   * Adds a persistent recursive watch on `path` (ZooKeeper 3.6+ `addWatch`): `listener` hears
   * of every create, data change and delete at or below it, without re-arming, until
   * {@link removePersistentWatch}. The server forgets the watch on every reconnect: add it again
   * on each `connected` event, and read afresh what may have changed meanwhile. Rejects with
   * UNIMPLEMENTED on older servers.
   */
  async addPersistentWatch(path: string, listener: ZkWatcher): Promise<void> {
    if (this.options.persistentWatches === false) {
      this.operationCounts.addWatch = (this.operationCounts.addWatch ?? 0) + 1;
      throw new ZkError(ZK_ERROR_CODES.UNIMPLEMENTED, path, 'addWatch: persistent watches turned off');
    }
    // Listening before the request: events right after the server added the watch are ours.
    let watch = this.persistentWatches.get(path);
    if (!watch) this.persistentWatches.set(path, (watch = { prefix: path === '/' ? '/' : `${path}/`, listeners: new Set() }));
    watch.listeners.add(listener);
    try {
      await this.run(path, 'addWatch', (raw, done) => queueAddWatch(raw, path, PERSISTENT_RECURSIVE, done));
    } catch (err) {
      this.removePersistentWatch(path, listener);
      throw err;
    }
  }

  /** Stops passing events to `listener` (the server-side watch ends with the connection). */
  removePersistentWatch(path: string, listener: ZkWatcher): void {
    const listeners = this.persistentWatches.get(path)?.listeners;
    listeners?.delete(listener);
    if (listeners?.size === 0) this.persistentWatches.delete(path);
  }

  async multi(ops: ZkOp[]): Promise<ZkOpResult[]> {
    if (ops.length === 0) return [];
    return this.run(ops[0].path, 'multi', (raw, done) => commitMulti(raw, ops, done));
  }

  /** A builder for {@link ZkClient.multi}. */
  transaction(): ZkTransaction {
    return new ZkTransaction(this);
  }

  async registerEphemeral(path: string, data: Buffer, options: { sequential?: boolean } = {}): Promise<EphemeralRegistration> {
    const registration = new Registration(
      {
        create: (p, d, o) => this.create(p, d, o),
        set: (p, d, v) => this.set(p, d, v),
        delete: (p, v) => this.delete(p, v),
        forget: (r) => this.registrations.delete(r),
      },
      path,
      data,
      options.sequential ?? false,
    );
    this.registrations.add(registration);
    try {
      await registration.recreate();
    } catch (err) {
      this.registrations.delete(registration);
      throw err;
    }
    return registration;
  }

  private async createOnce(path: string, data: Buffer, options: ZkCreateOptions): Promise<string> {
    const flags = createFlags(options.ephemeral, options.sequential);
    if (path.length > 1 && path.endsWith('/')) {
      if (!options.sequential) {
        throw new ZkError(ZK_ERROR_CODES.BAD_ARGUMENTS, path, 'a path ending in / is only valid for sequential creates');
      }
      return this.run(path, 'create', (raw, done) => queueSequentialDirCreate(raw, path, data, flags, done));
    }
    // Always send a buffer: kazoo reads a null data field as None and skips such lock contenders.
    return this.run(path, 'create', (raw, done) =>
      raw.create(path, Buffer.from(data), flags, (err: unknown, created?: string) => done(err, created)),
    );
  }

  private run<T>(path: string, operation: string, invoke: (raw: RawClient, done: (err: unknown, value?: T) => void) => void): Promise<T> {
    this.operationCounts[operation] = (this.operationCounts[operation] ?? 0) + 1;
    const session = this.session;
    if (!session || this.connState === 'closed') {
      return Promise.reject(new ConnectionLossError(path, `${operation}: client ${this.connState === 'closed' ? 'closed' : 'not connected'}`));
    }
    return session.call(path, operation, invoke);
  }

  private wrapWatcher(watch: ZkWatcher | undefined): ((event: LibEvent) => void) | undefined {
    if (!watch) return undefined;
    let wrapped = this.watchWrappers.get(watch);
    if (!wrapped) {
      wrapped = (event: LibEvent): void => watch(toWatchEvent(event));
      this.watchWrappers.set(watch, wrapped);
    }
    return wrapped;
  }

  private newSession(): ZkSession {
    return new ZkSession(
      {
        connectString: this.connectString,
        sessionTimeout: this.options.sessionTimeout ?? 10000,
        spinDelay: this.options.spinDelay ?? 250,
        tls: this.tls,
      },
      {
        connected: (s) => this.onConnected(s),
        disconnected: (s) => this.onDisconnected(s),
        expired: (s) => s === this.session && this.declareLost('expired'),
        notification: (s, raw) => s === this.session && this.dispatchPersistent(raw),
      },
    );
  }

  private dispatchPersistent(raw: RawNotification): void {
    if (this.persistentWatches.size === 0) return;
    const event = toPersistentEvent(raw);
    if (!event) return;
    for (const [root, { prefix, listeners }] of this.persistentWatches) {
      if (event.path !== root && !event.path.startsWith(prefix)) continue;
      for (const listener of listeners) listener(event);
    }
  }

  private onConnected(session: ZkSession): void {
    if (session !== this.session) return;
    this.clearLostTimer();
    const newSession = session !== this.lastConnected;
    const replaced = newSession && this.lastConnected !== undefined;
    this.lastConnected = session;
    this.connState = 'connected';
    const sessionId = session.sessionId ?? '';
    this.options.logger?.info('ZooKeeper connected', { session: sessionId, newSession });
    this.emitter.emit('connected', { sessionId, newSession });
    if (replaced) void this.restoreRegistrations(session);
  }

  private onDisconnected(session: ZkSession): void {
    if (session !== this.session || this.connState !== 'connected') return;
    this.connState = 'suspended';
    this.options.logger?.warn('ZooKeeper connection suspended', { session: session.sessionId });
    this.emitter.emit('suspended');
    // The server expires a session it has not heard from for the session timeout; if we cannot
    // reconnect within that time, assume it did, rather than wait forever (the library would).
    this.clearLostTimer();
    this.lostTimer = setTimeout(() => {
      if (this.session === session && this.connState === 'suspended') this.declareLost('timeout');
    }, session.timeout);
    this.lostTimer.unref();
  }

  private declareLost(reason: 'expired' | 'timeout'): void {
    const old = this.session;
    if (!old || this.connState === 'closed') return;
    this.clearLostTimer();
    const sessionId = old.sessionId;
    old.dispose('expired');
    for (const registration of this.registrations) registration.markLost();
    this.connState = 'lost';
    // Start the replacement before telling listeners, so anything they do goes to it.
    this.session = this.newSession();
    this.session.start();
    this.options.logger?.warn('ZooKeeper session lost', { session: sessionId, reason });
    this.emitter.emit('lost', { sessionId, reason });
  }

  /** Re-creates the registrations in a new session, retrying until done or the session changes. */
  private async restoreRegistrations(session: ZkSession): Promise<void> {
    for (const registration of [...this.registrations]) {
      while (registration.isPending && this.session === session) {
        try {
          await registration.recreate();
        } catch (err) {
          this.options.logger?.warn('re-creating ephemeral registration failed', { path: registration.requestedPath, err });
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
    if (this.session === session && session.sessionId) {
      this.emitter.emit('reconnected', { sessionId: session.sessionId });
    }
  }

  private clearLostTimer(): void {
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
  }
}
