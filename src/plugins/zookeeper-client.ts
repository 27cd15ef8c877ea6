/**
 * The raw ZooKeeper client of the SDK's {@link ZooKeeper} service (`zk.client`): znodes, watches,
 * transactions, ephemeral registrations and kazoo-compatible locks, with Nodepool's tree left to
 * the service. Re-exported by `zookeeper.ts`.
 */
/** Metadata of a znode (ZooKeeper `Stat`), with times in ms and session ids as hex. */
export interface ZnodeStat {
  /** zxid of the create. */
  czxid: number;
  /** zxid of the last data change. */
  mzxid: number;
  /** Creation time, ms since the epoch. */
  ctime: number;
  /** Last modification time, ms since the epoch. */
  mtime: number;
  /** Data version; pass it to version-checked `set`/`delete`. */
  version: number;
  /** Child version (bumped on every child create/delete; feeds sequential names). */
  cversion: number;
  /** ACL version. */
  aversion: number;
  /** Owning session id as 16 hex digits; all zeros for persistent znodes. */
  ephemeralOwner: string;
  /** True when `ephemeralOwner` is not zero. */
  ephemeral: boolean;
  /** Length of the data, bytes. */
  dataLength: number;
  /** Number of children. */
  numChildren: number;
  /** zxid of the last child change. */
  pzxid: number;
}

/** How to create a znode. */
export interface ZkCreateOptions {
  /** Deleted by the server when the session ends. */
  ephemeral?: boolean;
  /** The server appends a 10-digit sequence; a path ending in `/` gets a bare sequence name. */
  sequential?: boolean;
  /** Create missing ancestors as persistent empty znodes first (kazoo's `makepath`). */
  makeParents?: boolean;
}

/** What triggered a one-shot watch. */
export type ZkWatchEventType = 'created' | 'deleted' | 'changed' | 'children';

/** A watch notification. */
export interface ZkWatchEvent {
  /** What happened. */
  type: ZkWatchEventType;
  /** The watched path (relative to the chroot). */
  path: string;
}

/**
 * A one-shot watch callback. Watches set on a session that is later lost never fire: listen to
 * the client's `lost` event as well.
 */
export type ZkWatcher = (event: ZkWatchEvent) => void;

/** One operation of an atomic {@link ZooKeeperClient.multi}. */
export type ZkOp =
  | { op: 'create'; path: string; data?: Buffer; ephemeral?: boolean; sequential?: boolean }
  | { op: 'set'; path: string; data: Buffer; version?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'check'; path: string; version: number };

/** Result of one {@link ZkOp}, index-aligned with the ops. */
export type ZkOpResult =
  | { op: 'create'; path: string }
  | { op: 'set'; stat: ZnodeStat }
  | { op: 'delete' }
  | { op: 'check' };

/**
 * Connection state. `suspended`: disconnected, the session may still be alive; `lost`: the
 * session is gone (ephemerals and ephemeral locks with it) and a new one is being established.
 */
export type ZkConnectionState = 'idle' | 'connecting' | 'connected' | 'suspended' | 'lost' | 'closed';

/** Events of a {@link ZooKeeperClient}. */
export interface ZkClientEvents {
  /** Connected (first time, after a suspension in the same session, or in a new session). */
  connected: (info: { sessionId: string; newSession: boolean }) => void;
  /** The connection dropped; the session may survive. */
  suspended: () => void;
  /** The session ended: expired on the server, or no reconnect within the session timeout. */
  lost: (info: { sessionId: string | null; reason: 'expired' | 'timeout' }) => void;
  /** A new session replaced a lost one, and the ephemeral registrations were re-created. */
  reconnected: (info: { sessionId: string }) => void;
  /** The client was closed; no further events. */
  closed: () => void;
}

/**
 * An ephemeral znode the client keeps alive across sessions: after a session loss it is created
 * again (a sequential one gets a new name) with the latest data.
 */
export interface EphemeralRegistration {
  /** Current full path of the znode; null while it awaits re-creation in a new session. */
  readonly path: string | null;
  /** Data version of the znode as last written by us. */
  readonly version: number;
  /** Writes new data, checked against the cached version; kept for re-creation too. */
  update(data: Buffer): Promise<void>;
  /** Deletes the znode and stops re-creating it. */
  unregister(): Promise<void>;
}

/** The ZooKeeper client: a promise API over one (replaceable) ZooKeeper session. */
export interface ZooKeeperClient {
  /** Current connection state. */
  readonly state: ZkConnectionState;
  /** Current session id (16 hex digits), or null before the first connect. */
  readonly sessionId: string | null;
  /** Creates a znode and returns its path (with the sequence for sequential creates). */
  create(path: string, data?: Buffer, options?: ZkCreateOptions): Promise<string>;
  /** Reads data (null when the znode was created without data) and stat. */
  get(path: string, watch?: ZkWatcher): Promise<{ data: Buffer | null; stat: ZnodeStat }>;
  /** Writes data; `version` -1 (default) is unconditional. */
  set(path: string, data: Buffer, version?: number): Promise<ZnodeStat>;
  /** Stat of the znode, or null; a watch fires on create, change or delete. */
  exists(path: string, watch?: ZkWatcher): Promise<ZnodeStat | null>;
  /** Child names (not paths), unsorted as the server returns them. */
  getChildren(path: string, watch?: ZkWatcher): Promise<string[]>;
  /** Deletes one znode; `version` -1 (default) is unconditional. */
  delete(path: string, version?: number): Promise<void>;
  /** Deletes a subtree depth-first like kazoo (not atomic); a missing path is fine. */
  deleteRecursive(path: string): Promise<void>;
  /** Creates missing ancestors and the path itself as persistent empty znodes (kazoo). */
  ensurePath(path: string): Promise<void>;
  /** Runs the ops atomically. */
  multi(ops: ZkOp[]): Promise<ZkOpResult[]>;
  /**
   * ZooKeeper 3.6+ persistent recursive watch (`addWatch`): every create, data change and
   * delete at or below `path`, without re-arming. Lost on every reconnect (add it again on
   * `connected`); rejects with UNIMPLEMENTED on older servers. Optional for test doubles.
   */
  addPersistentWatch?(path: string, listener: ZkWatcher): Promise<void>;
  /** Stops passing events of that watch to `listener`. */
  removePersistentWatch?(path: string, listener: ZkWatcher): void;
  /** Creates an ephemeral znode that is re-created after a session loss. */
  registerEphemeral(path: string, data: Buffer, options?: { sequential?: boolean }): Promise<EphemeralRegistration>;
  /** Subscribes to a connection event. */
  on<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this;
  /** Unsubscribes. */
  off<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this;
}

/** Options of a lock acquire (kazoo `Lock.acquire`). */
export interface LockAcquireOptions {
  /** Wait for the lock (default true); false returns at once. */
  blocking?: boolean;
  /** Seconds to wait when blocking; undefined waits forever. */
  timeout?: number;
  /** Ephemeral contender znode (default true); false survives restarts (metastatic). */
  ephemeral?: boolean;
}

/** A kazoo-compatible exclusive lock on a lock directory. */
export interface ZooKeeperLock {
  /** The lock directory, e.g. `/nodepool/nodes/0000000001/lock`. */
  readonly path: string;
  /** Identifier written into our contender znode ('' for none). */
  readonly identifier: string;
  /** Our contender znode name while we hold or wait for the lock. */
  readonly node: string | null;
  /** True while held; becomes false when released or when the session is lost (ephemeral). */
  readonly isAcquired: boolean;
  /** Acquires; true when held. A miss or timeout removes our contender znode and gives false. */
  acquire(options?: LockAcquireOptions): Promise<boolean>;
  /** Deletes our contender znode; false when we did not hold the lock. */
  release(): Promise<boolean>;
  /** Identifiers of all contenders, holder first (kazoo `contenders()`). */
  contenders(): Promise<string[]>;
  /** Calls `listener` when the lock is lost with the session; returns an unsubscribe function. */
  onLost(listener: () => void): () => void;
}
