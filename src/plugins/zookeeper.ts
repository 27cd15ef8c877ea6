/**
 * ZooKeeper access for drivers and kernel services: the Nodepool tree (nodes, requests, locks,
 * component registrations) at the level a driver needs, plus the raw client for anything else.
 * The kernel binds one implementation per process under the {@link ZooKeeper} token; every call
 * speaks exactly Nodepool's protocol.
 */
import type { ComponentKind, ComponentRecord, PoolComponentRecord } from './models/component';
import type { Node } from './models/node';
import type { NodeRequest, RequestState } from './models/node-request';
import type { ZnodeCheck } from './instant-launch';

export {
  ZkError, NoNodeError, NodeExistsError, BadVersionError, NotEmptyError, ConnectionLossError,
  SessionExpiredError, ZK_ERROR_CODES,
} from './zk-errors';

export * from './zookeeper-client';
import type { LockAcquireOptions, ZooKeeperClient, ZooKeeperLock } from './zookeeper-client';


/** Options of {@link ZooKeeper.lockNode}. */
export interface NodeLockOptions extends LockAcquireOptions {
  /** Written into the contender znode (metastatic uses `NodePool:metastatic:<provider>`). */
  identifier?: string;
  /**
   * Re-read the node into the caller's object once locked (default true, like Nodepool). With
   * false the caller keeps its (cached) copy and must make its next write version-checked
   * against it, which gives the same guarantee without the read (see `fulfilNodeRequest`).
   */
  refresh?: boolean;
}

/** A component registration under `/nodepool/components/<kind>/`. */
export interface ComponentRegistration<T extends ComponentRecord = ComponentRecord> {
  /** Current znode path; changes after a session loss (new sequential znode). */
  readonly path: string | null;
  /** The content as last written. */
  readonly content: T;
  /** Merges `changes` into the content and writes it (version-checked). */
  update(changes: Partial<T>): Promise<void>;
  /** Deletes the znode and stops re-registering. */
  unregister(): Promise<void>;
}

/** A registered component as read from ZooKeeper. */
export interface RegisteredComponent<T extends ComponentRecord = ComponentRecord> {
  /** Znode name, `<hostname><sequence>`. */
  name: string;
  /** Full znode path. */
  path: string;
  /** The record's content. */
  record: T;
}

/**
 * A record changed in ZooKeeper, as the cache saw it: `current` undefined = removed (or
 * unreadable), `previous` undefined = new.
 */
export type RecordListener<T> = (id: string, current: T | undefined, previous: T | undefined) => void;

/**
 * What a {@link ZooKeeper.getNodes} caller wants of the cache, when it does not want all of it
 * current (see {@link ZooKeeper.followProviders}).
 */
export interface NodeQuery {
  /** Only nodes of these providers are returned (and read first when stale). */
  providers?: ReadonlySet<string>;
  /**
   * Nodes whose last change the cache has not read (stale): `read` them first (the default),
   * `keep` them as last read, or `omit` them.
   */
  stale?: 'read' | 'keep' | 'omit';
}

/** Nodepool's ZooKeeper tree, as a driver and the engine use it. */
export interface ZooKeeper {
  /**
   * Starts the watch-maintained cache of nodes and requests: afterwards {@link getNodes},
   * {@link getNodeRequests} and the id lists are answered from memory (they may lag ZooKeeper by
   * one event: lock and re-read before acting), and change listeners are called. Idempotent.
   */
  startCache(): Promise<void>;
  /** Subscribes to node changes seen by the cache (none before {@link startCache}). */
  onNodeChange(listener: RecordListener<Node>): () => void;
  /** Subscribes to request changes seen by the cache (none before {@link startCache}). */
  onRequestChange(listener: RecordListener<NodeRequest>): () => void;

  /** The raw client, for paths this interface does not cover. */
  readonly client: ZooKeeperClient;

  /** Reads one node; undefined when missing, empty, or unreadable (logged with its path). */
  getNode(id: string): Promise<Node | undefined>;
  /** Ids of all nodes. */
  getNodeIds(): Promise<string[]>;
  /**
   * Ids of node znodes whose body is empty, from the cache (undefined before it is synced): what
   * a lock's ensure_path leaves behind for a deleted node.
   */
  emptyNodeIds?(): string[] | undefined;
  /**
   * Ids of request znodes whose body cannot be read (not a request, or over the size bound), from
   * the cache (undefined before it is synced).
   */
  unreadableRequestIds?(): string[] | undefined;
  /**
   * Ids of every node znode the cache holds, readable or not, without a ZooKeeper read (a new
   * array); undefined while the cache is not synced.
   */
  cachedNodeIds?(): string[] | undefined;
  /**
   * All readable nodes (copies the caller may change); unreadable znodes are logged with their
   * path and skipped. With `filter`, only the nodes it accepts are returned: from the cache it
   * is called on the shared cached record (it must not change it) before anything is copied, so
   * a caller that wants a few of thousands of nodes does not pay for copying all of them.
   */
  getNodes(filter?: (node: Node) => boolean, query?: NodeQuery): Promise<Node[]>;
  /**
   * Changes of nodes of the providers `followed` rejects are not read from ZooKeeper as they
   * happen (the cache marks the node stale and emits no change event for it): such nodes are
   * read when {@link getNodes} is asked for them. A launcher follows the providers it runs, so
   * it does not read every state change of every other launcher's nodes. Creates are read and
   * deletes seen as always. Undefined (the default): every change is read.
   */
  followProviders?(followed: ((provider: string) => boolean) | undefined): void;
  /**
   * Nodes somebody else creates are not read as they are created while `othersCreate` says that
   * no other launcher may create nodes of a provider {@link followProviders} follows: such a
   * node is then not ours, and is read only when {@link getNodes} is asked for other providers'
   * nodes (or all). Call {@link followProviders} again when the followed set changes. Undefined
   * (the default): every create is read.
   */
  followNodeCreates?(othersCreate: (() => boolean) | undefined): void;
  /**
   * Resolves once the node cache holds every change ZooKeeper reported to this client before the
   * call (the reads those changes started have ended). After a reply such as a lock acquired,
   * {@link getNodes} then shows every node write made before it, e.g. by the lock's previous holder.
   */
  nodesCaughtUp?(): Promise<void>;
  /** Creates the node znode (sequential), setting `id`, `version` and `created_time`. */
  createNode(node: Node): Promise<Node>;
  /**
   * Whether `node`, at the version the caller holds, was written by {@link storeNode} of this
   * client (false for somebody else's write, or when unknown).
   */
  wroteNode?(node: Node): boolean;
  /** Writes the node unconditionally (creates it when it has no id), like Nodepool. */
  storeNode(node: Node): Promise<void>;
  /** Writes state `deleted`, then removes the node with its lock children and lock dir. */
  deleteNode(node: Node): Promise<void>;
  /**
   * Locks the node (`/nodepool/nodes/<id>/lock`) and refreshes it in place from ZooKeeper.
   * Undefined when the lock is held elsewhere (non-blocking) or the timeout passed.
   */
  lockNode(node: Node, options?: NodeLockOptions): Promise<ZooKeeperLock | undefined>;
  /** Releases the lock taken by {@link ZooKeeper.lockNode} on this node object. */
  unlockNode(node: Node): Promise<void>;
  /** Deletes the lowest contender of the node's lock (someone else's lock). */
  forceUnlockNode(id: string): Promise<void>;
  /** Identifiers of the node's lock contenders, holder first. Creates the lock dir (kazoo). */
  getNodeLockContenders(id: string): Promise<string[]>;
  /**
   * Whether the node's lock dir has a kazoo contender (`…__lock__<seq>`). Other children are
   * ignored, as kazoo's recipe ignores them, and reported once each.
   */
  isNodeLocked(id: string): Promise<boolean>;

  /** Creates `/nodepool/requests/<prio>-<seq>`; fills `event_id`, sets `id`. */
  submitNodeRequest(request: NodeRequest, priority?: string | number, options?: { ephemeral?: boolean }): Promise<NodeRequest>;
  /** Reads one request; undefined when missing or unreadable (logged). */
  getNodeRequest(id: string): Promise<NodeRequest | undefined>;
  /**
   * Waits (by watch, with a slow re-read as a fallback) until the request's state is one of
   * `states` (default fulfilled/failed); rejects when it vanishes or `timeoutMs` passes.
   */
  waitForNodeRequest(id: string, states?: readonly RequestState[], timeoutMs?: number, pollMs?: number): Promise<NodeRequest>;
  /** Ids of all requests. */
  getNodeRequestIds(): Promise<string[]>;
  /**
   * All readable requests; unreadable ones are logged with their path and skipped. Requests
   * whose last change the cache has not read (see {@link followRequests}) are read first, or with
   * `stale: 'keep'` returned as last read ({@link isRequestStale} tells which).
   */
  getNodeRequests(query?: { stale?: 'read' | 'keep' }): Promise<NodeRequest[]>;
  /**
   * Changes of a request the cache holds as `requested` are not read from ZooKeeper as they
   * happen when `interested` (given the registered pool components) rejects it: the cache marks
   * it stale and emits no change event; it is read when asked for ({@link getNodeRequests},
   * {@link freshNodeRequest}). A launcher none of whose pools would take the request now (the
   * work split leaves it to another launcher) need not read its fulfilment. Undefined (the
   * default): every change is read.
   */
  followRequests?(interested: ((request: NodeRequest, pools: readonly PoolComponentRecord[]) => boolean) | undefined): void;
  /**
   * A new request `interested` rejects (given the registered pool components; it sees only the
   * request id) is not read as it is created: it is read when asked for, when a change of the
   * pool components makes `interested` accept it, when another launcher hands it over
   * ({@link handOffRequest}), or `readAfterMs` after its create. Until then
   * {@link getNodeRequests} leaves it out. Undefined (the default): every create is read.
   */
  followRequestCreates?(interested: ((id: string, pools: readonly PoolComponentRecord[]) => boolean) | undefined, options?: { readAfterMs?: number }): void;
  /**
   * When request `id` was first seen, ms since the epoch, if it was left unread at its create
   * (see {@link followRequestCreates}); 0 once another launcher handed it over; undefined otherwise.
   */
  requestSeenAt?(id: string): number | undefined;
  /**
   * Tells the other nodepool-ts launchers that our pools leave request `id` (which they may have
   * left unread, see {@link followRequestCreates}) to them: they read it at once. Lasts until
   * {@link endRequestHandOff} or the end of our session.
   */
  handOffRequest?(id: string): Promise<void>;
  /** Withdraws a {@link handOffRequest} (the request left `requested` or is gone). */
  endRequestHandOff?(id: string): Promise<void>;
  /** Whether the cache saw a change of request `id` and did not read it (see {@link followRequests}). */
  isRequestStale?(id: string): boolean;
  /** The request as the cache holds it, read first when stale; undefined when gone or unreadable. */
  freshNodeRequest?(id: string): Promise<NodeRequest | undefined>;
  /** Writes the request (unconditionally like Nodepool, or version-checked like Zuul). */
  storeNodeRequest(request: NodeRequest, options?: { checkVersion?: boolean }): Promise<void>;
  /** Deletes the request znode; a missing one is fine. */
  deleteNodeRequest(id: string): Promise<void>;
  /** Locks `/nodepool/requests-lock/<id>` and refreshes the request in place. */
  lockNodeRequest(request: NodeRequest, options?: LockAcquireOptions): Promise<ZooKeeperLock | undefined>;
  /** Releases the lock taken by {@link ZooKeeper.lockNodeRequest}. */
  unlockNodeRequest(request: NodeRequest): Promise<void>;
  /**
   * A whole fulfilment as one atomic `multi` (checklist §7.15 without intermediate states):
   * every node's data (allocation) written checked against `node.version`, the request written
   * `fulfilled` checked against `request.version`, all locks involved released. A node locked
   * by us (`lockNode`) has its contender deleted; a node not locked by us is checked by the
   * transaction to be locked by nobody (its lock dir created if absent, else deleted and
   * re-created, which fails with NotEmpty while anybody holds or waits for it). The request is
   * either locked by us (`lockNodeRequest`), or, with `claimLock`, not locked at all: the multi
   * then creates its lock dir, which fails with NodeExistsError when anybody ever locked it, so
   * nobody could hold the lock while we wrote. Nothing is written when it fails; the error's
   * `path` names what failed (a node's lock dir: held; BadVersion: changed meanwhile).
   * `checks` are made by the same transaction (an instant launch's, see `InstantReservation`).
   */
  fulfilNodeRequest(request: NodeRequest, nodes: readonly Node[], options?: { claimLock?: boolean; checks?: readonly ZnodeCheck[] }): Promise<void>;
  /**
   * Deletes a node nobody holds locked, atomically: `deleted` written checked against
   * `node.version`, then the (empty) lock dir and the node removed in the same `multi`. A
   * contender in the lock dir makes it fail as a whole ('busy'); so do other children.
   */
  deleteUnlockedNode(node: Node): Promise<'deleted' | 'busy' | 'changed' | 'gone'>;

  /** A kazoo lock on any path (e.g. the stats election). */
  createLock(path: string, identifier?: string): ZooKeeperLock;

  /** Registers this process's component (ephemeral sequential, re-registered after session loss). */
  registerComponent<T extends ComponentRecord>(kind: ComponentKind, content: T): Promise<ComponentRegistration<T>>;
  /** Components of a kind; unreadable ones are logged and skipped. */
  getComponents(kind: ComponentKind): Promise<RegisteredComponent[]>;
  /** All registered pool components (what decline/yield decisions use). */
  getRegisteredPools(): Promise<PoolComponentRecord[]>;
  /**
   * Hears of each unusable record when it is first reported (once per version): `kind` is
   * `node`, `request`, `component` or `lock-child`. Returns the unsubscribe function.
   */
  onBadRecord?(listener: (kind: string, path: string) => void): () => void;
}

/** Injection token for the kernel's {@link ZooKeeper}. */
export const ZooKeeper: unique symbol = Symbol.for('nodepool-ts.ZooKeeper');
