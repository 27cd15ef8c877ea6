/**
 * NodepoolZk: Nodepool's ZooKeeper tree (nodes, requests, their locks, components) over a
 * ZkClient, written to behave like Python Nodepool's `nodepool/zk/zookeeper.py` (spec §1-§3).
 * Reads of many records are tolerant: one unreadable znode is logged with its path and skipped,
 * so a single bad record written by anybody cannot stop the launcher.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../plugins/logger';
import type { ZnodeCheck } from '../plugins/instant-launch';
import type {
  ComponentRegistration, NodeQuery, RecordListener, LockAcquireOptions, NodeLockOptions, RegisteredComponent, ZooKeeper,
  ZooKeeperClient, ZooKeeperLock,
} from '../plugins/zookeeper';
import { registerComponent, listComponents } from './component-registry';
import { KazooLock } from './kazoo-lock';
import { contenderSequence, forceUnlock } from './lock-contenders';
import { BadRecords, type BadRecordListener } from './bad-records';
import { RecordParser } from './record-parser';
import { RequestHandOffs } from './request-handoffs';
import type { ComponentKind, ComponentRecord, PoolComponentRecord } from './models/component';
import { Node } from './models/node';
import { NodeRequest, type RequestState } from './models/node-request';
import { waitForNodeRequest } from './wait-for-request';
import { NODE_ROOT, REQUEST_ROOT, nodeLockPath, nodePath, requestLockPath, requestPath } from './nodepool-paths';
import { NoNodeError } from './zk-errors';
import { commitFulfilment, deleteUnlocked, type AtomicContext } from './atomic-writes';
import { CachedRecords } from './cached-records';
import type { ZnodeCache } from './znode-cache';
import { mapLimit } from './zk-path';

/** Parallel reads when listing many records; the client pipelines them on one socket. */
const READ_CONCURRENCY = 32;

/** The Nodepool tree over one client; see the module comment. */
export class NodepoolZk implements ZooKeeper {
  // Locks taken through lockNode/lockNodeRequest, keyed by the object that was locked (Python
  // keeps them as `node.lock` / `request.lock`).
  private readonly nodeLocks = new WeakMap<Node, KazooLock>();
  private readonly requestLocks = new WeakMap<NodeRequest, KazooLock>();

  /** Unusable records found (logged once per version, summarised past a rate, counted by kind). */
  readonly badRecords: BadRecords;
  private readonly parser: RecordParser;
  private readonly caches: CachedRecords;
  private readonly handOffs: RequestHandOffs;
  /** The version of each node this client last wrote with {@link storeNode} (see {@link wroteNode}). */
  private readonly nodesWritten = new Map<string, number>();

  constructor(
    readonly client: ZooKeeperClient,
    private readonly logger: Logger,
  ) {
    this.badRecords = new BadRecords(logger);
    this.parser = new RecordParser(this.badRecords);
    this.caches = new CachedRecords(client, logger, this.parser);
    this.handOffs = new RequestHandOffs(client, logger, (id) => void this.caches.readRequestNow(id).catch(() => undefined));
  }

  /** Record bodies parsed so far, by kind (a hostile-input test counts parses per version). */
  parseCounts(): Readonly<Record<'node' | 'request' | 'component', number>> {
    return this.parser.parseCounts();
  }

  onBadRecord(listener: BadRecordListener): () => void {
    return this.badRecords.onReport(listener);
  }

  // ---- cache ----------------------------------------------------------------------------------

  async startCache(): Promise<void> {
    await Promise.all([this.caches.start(), this.handOffs.start()]);
  }

  /** Stops following changes; reads go to ZooKeeper again. */
  stopCache(): void {
    this.handOffs.stop();
    this.caches.stop();
  }

  onNodeChange(listener: RecordListener<Node>): () => void {
    return this.caches.onNodeChange(listener);
  }

  onRequestChange(listener: RecordListener<NodeRequest>): () => void {
    return this.caches.onRequestChange(listener);
  }

  // ---- nodes ----------------------------------------------------------------------------------

  async getNode(id: string): Promise<Node | undefined> {
    const path = nodePath(id);
    try {
      const { data, stat } = await this.client.get(path);
      // An empty znode is what a lock's ensure_path leaves behind for a deleted node (spec §3.3);
      // Nodepool treats it as "no node" and its cleanup removes it.
      if (data) this.caches.node?.noteWrite(id, data, stat.version);
      if (!data || data.length === 0) return undefined;
      // The version the cache holds was parsed already.
      const cached = this.caches.node?.get(id);
      if (cached?.version === stat.version) return this.caches.nodeOf(cached);
      return this.parser.direct('node', path, stat.version, data, () => Node.parse(id, data, stat.version, path));
    } catch (err) {
      return this.tolerate(err);
    }
  }

  emptyNodeIds(): string[] | undefined {
    return this.caches.emptyNodeIds();
  }

  unreadableRequestIds(): string[] | undefined {
    return this.caches.unreadableRequestIds();
  }

  cachedNodeIds(): string[] | undefined {
    return this.caches.node?.isSynced ? this.caches.node.ids() : undefined;
  }

  async getNodeIds(): Promise<string[]> {
    if (this.caches.node?.isSynced) return this.caches.node.ids();
    return this.children(NODE_ROOT);
  }

  async getNodes(filter?: (node: Node) => boolean, query: NodeQuery = {}): Promise<Node[]> {
    const cached = await this.caches.freshNodes(filter, query);
    if (cached) return cached;
    const { providers } = query;
    const nodes = await mapLimit(await this.getNodeIds(), READ_CONCURRENCY, (id) => this.getNode(id));
    return nodes.filter((n): n is Node => n !== undefined && (!providers || (n.provider !== null && providers.has(n.provider))) && (!filter || filter(n)));
  }

  followProviders(followed: ((provider: string) => boolean) | undefined): void {
    this.caches.followProviders(followed);
  }

  followNodeCreates(othersCreate: (() => boolean) | undefined): void {
    this.caches.followNodeCreates(othersCreate);
  }

  async createNode(node: Node): Promise<Node> {
    if (node.id) throw new Error(`node ${node.id} already exists; use storeNode`);
    // created_time = the initial state_time, like Nodepool's storeNode (ZK:2659-2665).
    node.created_time = node.state_time || Date.now() / 1000;
    const data = node.serialize();
    await this.writing(this.caches.node, [undefined], async () => {
      const path = await this.client.create(`${NODE_ROOT}/`, data, { sequential: true, makeParents: true });
      node.id = path.slice(path.lastIndexOf('/') + 1);
      node.version = 0;
      this.caches.node?.noteWrite(node.id, data, 0);
    });
    return node;
  }

  async storeNode(node: Node): Promise<void> {
    if (!node.id) {
      await this.createNode(node);
      return;
    }
    // Unconditional like Nodepool (ZK:2675): the node lock is what serialises writers.
    const data = node.serialize();
    const id = node.id;
    await this.writing(this.caches.node, [id], async () => {
      const stat = await this.client.set(nodePath(id), data);
      node.version = stat.version;
      this.caches.node?.noteWrite(id, data, stat.version);
      if (this.nodesWritten.size > 10_000) this.nodesWritten.clear();
      this.nodesWritten.set(id, stat.version);
    });
  }

  wroteNode(node: Node): boolean {
    return node.id !== null && node.version !== undefined && this.nodesWritten.get(node.id) === node.version;
  }

  async deleteNode(node: Node): Promise<void> {
    if (!node.id) return;
    const id = node.id;
    const path = nodePath(id);
    await this.writing(this.caches.node, [id], async () => {
      // `deleted` first, so a reader that sees the lock vanish before the znode knows why
      // (ZK:2712-2730); then lock children, lock dir and node, depth-first.
      node.state = 'deleted';
      try {
        const stat = await this.client.set(path, node.serialize());
        node.version = stat.version;
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      await this.client.deleteRecursive(path);
      this.caches.node?.noteDelete(id);
    });
  }

  async lockNode(node: Node, options: NodeLockOptions = {}): Promise<ZooKeeperLock | undefined> {
    const id = requireId(node.id, 'node');
    // parentMustExist: locking a node that was deleted meanwhile fails instead of re-creating it.
    // A node never written since its creation was most likely never locked: its lock dir is
    // created with our contender, which makes the lock ours without listing the dir.
    const lock = new KazooLock(this.client, nodeLockPath(id), options.identifier, true, node.version === 0, (child) => this.foreignLockChild(id, child));
    if (options.refresh === false) {
      if (!(await lock.acquire(options))) return undefined;
      this.nodeLocks.set(node, lock);
      return lock;
    }
    // Refresh in place like Nodepool's updateNode, so the caller re-checks current data.
    return this.lockAndRefresh(lock, options, node, () => this.getNode(id), nodePath(id), this.nodeLocks);
  }

  async unlockNode(node: Node): Promise<void> {
    const lock = this.nodeLocks.get(node);
    if (!lock) throw new Error(`node ${node.id} is not locked by this process`);
    this.nodeLocks.delete(node);
    await lock.release();
  }

  async forceUnlockNode(id: string): Promise<void> {
    await forceUnlock(this.client, nodeLockPath(id));
  }

  async getNodeLockContenders(id: string): Promise<string[]> {
    return new KazooLock(this.client, nodeLockPath(id)).contenders();
  }

  async isNodeLocked(id: string): Promise<boolean> {
    // Only kazoo contenders (`…__lock__<seq>`) count, as in kazoo's recipe. Nodepool's cache
    // counts ANY child (ZK:1124-1139), so one junk child written by anybody kept a ready node
    // from ever being handed out again, silently (issue 19); it is reported once instead.
    const dir = nodeLockPath(id);
    let locked = false;
    for (const name of await this.children(dir)) {
      if (contenderSequence(name) !== undefined) locked = true;
      else this.foreignLockChild(id, `${dir}/${name}`);
    }
    return locked;
  }

  /** A child of a node's lock dir that is not a kazoo contender: reported once, then ignored. */
  private foreignLockChild(id: string, path: string): void {
    this.badRecords.report('lock-child', path, path, 'not a kazoo lock contender; ignored for locking', id);
  }

  // ---- requests -------------------------------------------------------------------------------

  async submitNodeRequest(request: NodeRequest, priority: string | number = '100', options: { ephemeral?: boolean } = {}): Promise<NodeRequest> {
    if (request.id) throw new Error(`request ${request.id} was already submitted`);
    const prefix = String(priority).padStart(3, '0');
    // Python splits ids on '-' and Zuul tests id[3] == '-' (spec §1.2).
    if (!/^\d{3}$/.test(prefix)) throw new Error(`request priority must be 1-3 digits, got ${JSON.stringify(priority)}`);
    if (!request.event_id) request.event_id = randomUUID().replace(/-/g, '');
    const data = request.serialize();
    await this.writing(this.caches.request, [undefined], async () => {
      const path = await this.client.create(`${REQUEST_ROOT}/${prefix}-`, data, {
        ephemeral: options.ephemeral ?? true,
        sequential: true,
        makeParents: true,
      });
      request.id = path.slice(path.lastIndexOf('/') + 1);
      request.version = 0;
      this.caches.request?.noteWrite(request.id, data, 0);
    });
    return request;
  }

  waitForNodeRequest(id: string, states?: readonly RequestState[], timeoutMs?: number, pollMs?: number): Promise<NodeRequest> {
    return waitForNodeRequest(this.client, id, states, timeoutMs, pollMs);
  }

  async getNodeRequest(id: string): Promise<NodeRequest | undefined> {
    const path = requestPath(id);
    try {
      const { data, stat } = await this.client.get(path);
      if (data) this.caches.request?.noteWrite(id, data, stat.version);
      const cached = this.caches.request?.get(id);
      if (cached?.version === stat.version && cached.data.length > 0) return this.caches.requestOf(cached);
      return this.parser.direct('request', path, stat.version, data ?? Buffer.alloc(0), () => NodeRequest.parse(id, data, stat.version, path));
    } catch (err) {
      return this.tolerate(err);
    }
  }

  async getNodeRequestIds(): Promise<string[]> {
    if (this.caches.request?.isSynced) return this.caches.request.ids();
    return this.children(REQUEST_ROOT);
  }

  followRequests(interested: ((request: NodeRequest, pools: readonly PoolComponentRecord[]) => boolean) | undefined): void {
    this.caches.followRequests(interested);
  }

  followRequestCreates(interested: ((id: string, pools: readonly PoolComponentRecord[]) => boolean) | undefined, options?: { readAfterMs?: number }): void {
    this.caches.followRequestCreates(interested, options);
  }

  requestSeenAt(id: string): number | undefined {
    return this.caches.requestSeenAt(id);
  }

  handOffRequest(id: string): Promise<void> {
    return this.handOffs.handOff(id);
  }

  endRequestHandOff(id: string): Promise<void> {
    return this.handOffs.end(id);
  }

  isRequestStale(id: string): boolean {
    return this.caches.isRequestStale(id);
  }

  async freshNodeRequest(id: string): Promise<NodeRequest | undefined> {
    const cached = await this.caches.freshRequest(id);
    // The cache was not synced, or the read lost it: ZooKeeper answers.
    return this.caches.request?.isSynced ? cached : this.getNodeRequest(id);
  }

  async getNodeRequests(query: { stale?: 'read' | 'keep' } = {}): Promise<NodeRequest[]> {
    const cached = await this.caches.freshRequests(query.stale);
    if (cached) return cached;
    const requests = await mapLimit(await this.getNodeRequestIds(), READ_CONCURRENCY, (id) => this.getNodeRequest(id));
    return requests.filter((r): r is NodeRequest => r !== undefined);
  }

  async storeNodeRequest(request: NodeRequest, options: { checkVersion?: boolean } = {}): Promise<void> {
    const id = requireId(request.id, 'request');
    const data = request.serialize();
    await this.writing(this.caches.request, [id], async () => {
      const stat = await this.client.set(requestPath(id), data, options.checkVersion ? request.version : -1);
      request.version = stat.version;
      this.caches.request?.noteWrite(id, data, stat.version);
    });
  }

  async deleteNodeRequest(id: string): Promise<void> {
    try {
      await this.client.delete(requestPath(id));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    this.caches.request?.noteDelete(id);
  }

  async lockNodeRequest(request: NodeRequest, options: LockAcquireOptions = {}): Promise<ZooKeeperLock | undefined> {
    const id = requireId(request.id, 'request');
    const lock = new KazooLock(this.client, requestLockPath(id));
    // Refresh in place like Nodepool's updateNodeRequest after locking (ZK:2393-2406).
    return this.lockAndRefresh(lock, { ...options, ephemeral: true }, request, () => this.getNodeRequest(id), requestPath(id), this.requestLocks);
  }

  /**
   * Acquires `lock`, then re-reads the record into `target` so the caller decides on current
   * data; a record that vanished (or became unreadable) meanwhile releases the lock again.
   */
  private async lockAndRefresh<T extends object>(
    lock: KazooLock,
    options: LockAcquireOptions,
    target: T,
    read: () => Promise<T | undefined>,
    path: string,
    held: WeakMap<T, KazooLock>,
  ): Promise<ZooKeeperLock | undefined> {
    if (!(await lock.acquire(options))) return undefined;
    const fresh = await read().catch(async (err: unknown) => {
      await lock.release();
      throw err;
    });
    if (!fresh) {
      await lock.release();
      throw new NoNodeError(path, 'record vanished (or is unreadable) after locking it');
    }
    Object.assign(target, fresh);
    held.set(target, lock);
    return lock;
  }

  async unlockNodeRequest(request: NodeRequest): Promise<void> {
    const lock = this.requestLocks.get(request);
    if (!lock) throw new Error(`request ${request.id} is not locked by this process`);
    this.requestLocks.delete(request);
    await lock.release();
  }

  async nodesCaughtUp(): Promise<void> {
    await this.caches.node?.caughtUp();
  }

  fulfilNodeRequest(request: NodeRequest, nodes: readonly Node[], options: { claimLock?: boolean; checks?: readonly ZnodeCheck[] } = {}): Promise<void> {
    requireId(request.id, 'request');
    return commitFulfilment(this.atomicContext(), request, nodes, options.claimLock ?? false, options.checks);
  }

  deleteUnlockedNode(node: Node): Promise<'deleted' | 'busy' | 'changed' | 'gone'> {
    requireId(node.id, 'node');
    return deleteUnlocked(this.atomicContext(), node);
  }

  private atomicContext(): AtomicContext {
    return {
      client: this.client, nodeLocks: this.nodeLocks, requestLocks: this.requestLocks, nodeCache: this.caches.node, requestCache: this.caches.request,
      foreignLockChild: (id, path) => this.foreignLockChild(id, path),
      writing: (cache, ids, write) => this.writing(cache, ids, write),
    };
  }

  // ---- locks and components -------------------------------------------------------------------

  createLock(path: string, identifier?: string): ZooKeeperLock {
    return new KazooLock(this.client, path, identifier);
  }

  registerComponent<T extends ComponentRecord>(kind: ComponentKind, content: T): Promise<ComponentRegistration<T>> {
    return registerComponent(this.client, kind, content);
  }

  getComponents(kind: ComponentKind): Promise<RegisteredComponent[]> {
    return listComponents(this.client, this.logger, kind);
  }

  async getRegisteredPools(): Promise<PoolComponentRecord[]> {
    const cached = this.caches.pools();
    if (cached) return cached;
    return (await this.getComponents('pool')).map((c) => c.record as PoolComponentRecord);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * Runs a write of ours to children of `cache` (undefined id: a create), so the cache does not
   * read back what `write` stores into it itself (see ZnodeCache.beginWrite).
   */
  private async writing<T>(cache: ZnodeCache | undefined, ids: ReadonlyArray<string | undefined>, write: () => Promise<T>): Promise<T> {
    const ends = cache ? ids.map((id) => cache.beginWrite(id)) : [];
    try {
      return await write();
    } finally {
      for (const end of ends) end();
    }
  }

  private async children(path: string): Promise<string[]> {
    try {
      return (await this.client.getChildren(path)).sort();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** A missing record is undefined (unreadable ones were reported by the parser). */
  private tolerate(err: unknown): undefined {
    if (err instanceof NoNodeError) return undefined;
    throw err;
  }
}

function requireId(id: string | null, what: string): string {
  if (!id) throw new Error(`${what} has no id (not stored yet)`);
  return id;
}
