/**
 * NodepoolZk: Nodepool's ZooKeeper tree (nodes, requests, their locks, components) over a
 * ZkClient, written to behave like Python Nodepool's `nodepool/zk/zookeeper.py` (spec §1-§3).
 * Reads of many records are tolerant: one unreadable znode is logged with its path and skipped,
 * so a single bad record written by anybody cannot stop the launcher.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../plugins/logger';
import type {
  ComponentRegistration, RecordListener, LockAcquireOptions, NodeLockOptions, RegisteredComponent, ZooKeeper,
  ZooKeeperClient, ZooKeeperLock,
} from '../plugins/zookeeper';
import { registerComponent, listComponents } from './component-registry';
import { KazooLock, forceUnlock } from './kazoo-lock';
import { parseComponent, type ComponentKind, type ComponentRecord, type PoolComponentRecord } from './models/component';
import { ModelError } from './models/model-error';
import { Node } from './models/node';
import { NodeRequest, type RequestState } from './models/node-request';
import { waitForNodeRequest } from './wait-for-request';
import { NODE_ROOT, REQUEST_ROOT, componentPath, nodeLockPath, nodePath, requestLockPath, requestPath } from './nodepool-paths';
import { NoNodeError } from './zk-errors';
import { commitFulfilment, deleteUnlocked, type AtomicContext } from './atomic-writes';
import { ZnodeCache, type CachedZnode } from './znode-cache';
import { mapLimit } from './zk-path';

/** Parallel reads when listing many records; the client pipelines them on one socket. */
const READ_CONCURRENCY = 32;

/** The Nodepool tree over one client; see the module comment. */
export class NodepoolZk implements ZooKeeper {
  // Locks taken through lockNode/lockNodeRequest, keyed by the object that was locked (Python
  // keeps them as `node.lock` / `request.lock`).
  private readonly nodeLocks = new WeakMap<Node, KazooLock>();
  private readonly requestLocks = new WeakMap<NodeRequest, KazooLock>();

  private nodeCache: ZnodeCache | undefined;
  private requestCache: ZnodeCache | undefined;
  private poolCache: ZnodeCache | undefined;
  // Unreadable cached records are logged once per version, not on every read of the cache.
  private readonly reportedBad = new Set<string>();
  // Cached bodies found unreadable, by buffer (a new version is a new buffer): every reader of
  // the cache (each pool pass, the deleted-node worker, stats) would otherwise parse them again,
  // and hostile ones cost milliseconds each (a few hundred 500-level bodies took the launcher's
  // whole CPU in the fuzz test).
  private readonly unreadable = new WeakSet<Buffer>();
  // One parsed copy per cached node version: reads hand out shallow copies of it instead of
  // parsing every node's JSON on every pass (CPU and garbage at thousands of nodes).
  private readonly parsedNodes = new Map<string, Node>();

  constructor(
    readonly client: ZooKeeperClient,
    private readonly logger: Logger,
  ) {}

  // ---- cache ----------------------------------------------------------------------------------

  async startCache(): Promise<void> {
    this.nodeCache ??= new ZnodeCache(this.client, NODE_ROOT, this.logger);
    this.requestCache ??= new ZnodeCache(this.client, REQUEST_ROOT, this.logger);
    // Pool components are read on every pool pass (decline and yield rules).
    this.poolCache ??= new ZnodeCache(this.client, componentPath('pool'), this.logger);
    await Promise.all([this.nodeCache.start(), this.requestCache.start(), this.poolCache.start()]);
  }

  /** Stops following changes; reads go to ZooKeeper again. */
  stopCache(): void {
    for (const cache of [this.nodeCache, this.requestCache, this.poolCache]) cache?.stop();
    this.nodeCache = undefined;
    this.requestCache = undefined;
    this.poolCache = undefined;
  }

  onNodeChange(listener: RecordListener<Node>): () => void {
    const cache = this.nodeCache;
    if (!cache) return () => undefined;
    return cache.subscribe((id, current, previous) => listener(id, this.parseCached(current, 'node'), this.parseCached(previous, 'node')));
  }

  onRequestChange(listener: RecordListener<NodeRequest>): () => void {
    const cache = this.requestCache;
    if (!cache) return () => undefined;
    return cache.subscribe((id, current, previous) => listener(id, this.parseCached(current, 'request'), this.parseCached(previous, 'request')));
  }

  private parseCached(entry: CachedZnode | undefined, what: 'node'): Node | undefined;
  private parseCached(entry: CachedZnode | undefined, what: 'request'): NodeRequest | undefined;
  private parseCached(entry: CachedZnode | undefined, what: 'node' | 'request'): Node | NodeRequest | undefined {
    if (!entry || entry.data.length === 0 || this.unreadable.has(entry.data)) return undefined;
    const path = what === 'node' ? nodePath(entry.id) : requestPath(entry.id);
    try {
      return what === 'node' ? Node.parse(entry.id, entry.data, entry.version, path) : NodeRequest.parse(entry.id, entry.data, entry.version, path);
    } catch (err) {
      this.unreadable.add(entry.data);
      const key = `${path}@${entry.version}`;
      if (this.reportedBad.has(key)) return undefined;
      if (this.reportedBad.size > 10_000) this.reportedBad.clear();
      this.reportedBad.add(key);
      return this.tolerate(err, what, path);
    }
  }

  /**
   * Parses a record read directly; an unreadable version already reported (by the cache or an
   * earlier read) is skipped silently, so a worker that re-reads a bad record each pass cannot
   * flood the log. The first sighting throws on to {@link tolerate}, which logs it.
   */
  private onceBad<T>(path: string, version: number, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      const key = `${path}@${version}`;
      if (this.reportedBad.has(key)) return undefined;
      if (this.reportedBad.size > 10_000) this.reportedBad.clear();
      this.reportedBad.add(key);
      throw err;
    }
  }

  // ---- nodes ----------------------------------------------------------------------------------

  async getNode(id: string): Promise<Node | undefined> {
    const path = nodePath(id);
    try {
      const { data, stat } = await this.client.get(path);
      // An empty znode is what a lock's ensure_path leaves behind for a deleted node (spec §3.3);
      // Nodepool treats it as "no node" and its cleanup removes it.
      if (data) this.nodeCache?.noteWrite(id, data, stat.version);
      if (!data || data.length === 0) return undefined;
      return this.onceBad(path, stat.version, () => Node.parse(id, data, stat.version, path));
    } catch (err) {
      return this.tolerate(err, 'node', path);
    }
  }

  async getNodeIds(): Promise<string[]> {
    if (this.nodeCache?.isSynced) return this.nodeCache.ids();
    return this.children(NODE_ROOT);
  }

  async getNodes(filter?: (node: Node) => boolean): Promise<Node[]> {
    if (this.nodeCache?.isSynced) {
      const nodes: Node[] = [];
      const seen = new Set<string>();
      for (const entry of this.nodeCache.values()) {
        seen.add(entry.id);
        let parsed = this.parsedNodes.get(entry.id);
        if (!parsed || parsed.version !== entry.version) {
          parsed = this.parseCached(entry, 'node');
          if (parsed) this.parsedNodes.set(entry.id, parsed);
          else this.parsedNodes.delete(entry.id);
        }
        if (parsed && (!filter || filter(parsed))) nodes.push(shallowCopy(parsed));
      }
      for (const id of this.parsedNodes.keys()) if (!seen.has(id)) this.parsedNodes.delete(id);
      return nodes;
    }
    const nodes = await mapLimit(await this.getNodeIds(), READ_CONCURRENCY, (id) => this.getNode(id));
    return nodes.filter((n): n is Node => n !== undefined && (!filter || filter(n)));
  }

  async createNode(node: Node): Promise<Node> {
    if (node.id) throw new Error(`node ${node.id} already exists; use storeNode`);
    // created_time = the initial state_time, like Nodepool's storeNode (ZK:2659-2665).
    node.created_time = node.state_time || Date.now() / 1000;
    const data = node.serialize();
    await this.writing(this.nodeCache, [undefined], async () => {
      const path = await this.client.create(`${NODE_ROOT}/`, data, { sequential: true, makeParents: true });
      node.id = path.slice(path.lastIndexOf('/') + 1);
      node.version = 0;
      this.nodeCache?.noteWrite(node.id, data, 0);
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
    await this.writing(this.nodeCache, [id], async () => {
      const stat = await this.client.set(nodePath(id), data);
      node.version = stat.version;
      this.nodeCache?.noteWrite(id, data, stat.version);
    });
  }

  async deleteNode(node: Node): Promise<void> {
    if (!node.id) return;
    const id = node.id;
    const path = nodePath(id);
    await this.writing(this.nodeCache, [id], async () => {
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
      this.nodeCache?.noteDelete(id);
    });
  }

  async lockNode(node: Node, options: NodeLockOptions = {}): Promise<ZooKeeperLock | undefined> {
    const id = requireId(node.id, 'node');
    // parentMustExist: locking a node that was deleted meanwhile fails instead of re-creating it.
    // A node never written since its creation was most likely never locked: its lock dir is
    // created with our contender, which makes the lock ours without listing the dir.
    const lock = new KazooLock(this.client, nodeLockPath(id), options.identifier, true, node.version === 0);
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
    // Nodepool's cache counts ANY child of the lock dir as a contender (ZK:1124-1139).
    return (await this.children(nodeLockPath(id))).length > 0;
  }

  // ---- requests -------------------------------------------------------------------------------

  async submitNodeRequest(request: NodeRequest, priority: string | number = '100', options: { ephemeral?: boolean } = {}): Promise<NodeRequest> {
    if (request.id) throw new Error(`request ${request.id} was already submitted`);
    const prefix = String(priority).padStart(3, '0');
    // Python splits ids on '-' and Zuul tests id[3] == '-' (spec §1.2).
    if (!/^\d{3}$/.test(prefix)) throw new Error(`request priority must be 1-3 digits, got ${JSON.stringify(priority)}`);
    if (!request.event_id) request.event_id = randomUUID().replace(/-/g, '');
    const data = request.serialize();
    await this.writing(this.requestCache, [undefined], async () => {
      const path = await this.client.create(`${REQUEST_ROOT}/${prefix}-`, data, {
        ephemeral: options.ephemeral ?? true,
        sequential: true,
        makeParents: true,
      });
      request.id = path.slice(path.lastIndexOf('/') + 1);
      request.version = 0;
      this.requestCache?.noteWrite(request.id, data, 0);
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
      if (data) this.requestCache?.noteWrite(id, data, stat.version);
      return this.onceBad(path, stat.version, () => NodeRequest.parse(id, data, stat.version, path));
    } catch (err) {
      return this.tolerate(err, 'request', path);
    }
  }

  async getNodeRequestIds(): Promise<string[]> {
    if (this.requestCache?.isSynced) return this.requestCache.ids();
    return this.children(REQUEST_ROOT);
  }

  async getNodeRequests(): Promise<NodeRequest[]> {
    if (this.requestCache?.isSynced) {
      return this.requestCache.values().map((e) => this.parseCached(e, 'request')).filter((r): r is NodeRequest => r !== undefined);
    }
    const requests = await mapLimit(await this.getNodeRequestIds(), READ_CONCURRENCY, (id) => this.getNodeRequest(id));
    return requests.filter((r): r is NodeRequest => r !== undefined);
  }

  async storeNodeRequest(request: NodeRequest, options: { checkVersion?: boolean } = {}): Promise<void> {
    const id = requireId(request.id, 'request');
    const data = request.serialize();
    await this.writing(this.requestCache, [id], async () => {
      const stat = await this.client.set(requestPath(id), data, options.checkVersion ? request.version : -1);
      request.version = stat.version;
      this.requestCache?.noteWrite(id, data, stat.version);
    });
  }

  async deleteNodeRequest(id: string): Promise<void> {
    try {
      await this.client.delete(requestPath(id));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    this.requestCache?.noteDelete(id);
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

  fulfilNodeRequest(request: NodeRequest, nodes: readonly Node[], options: { claimLock?: boolean } = {}): Promise<void> {
    requireId(request.id, 'request');
    return commitFulfilment(this.atomicContext(), request, nodes, options.claimLock ?? false);
  }

  deleteUnlockedNode(node: Node): Promise<'deleted' | 'busy' | 'changed' | 'gone'> {
    requireId(node.id, 'node');
    return deleteUnlocked(this.atomicContext(), node);
  }

  private atomicContext(): AtomicContext {
    return {
      client: this.client, nodeLocks: this.nodeLocks, requestLocks: this.requestLocks, nodeCache: this.nodeCache, requestCache: this.requestCache,
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
    const cache = this.poolCache;
    if (cache?.isSynced) {
      const records: PoolComponentRecord[] = [];
      for (const entry of cache.values()) {
        const path = `${cache.root}/${entry.id}`;
        try {
          // Read on every pool pass: a bad record is reported once per version, not per pass.
          const record = this.onceBad(path, entry.version, () => parseComponent(path, entry.data) as PoolComponentRecord);
          if (record) records.push(record);
        } catch (err) {
          this.tolerate(err, 'component', path);
        }
      }
      return records;
    }
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

  /** A missing record is undefined; an unreadable one is logged with its path and skipped. */
  private tolerate(err: unknown, what: string, path: string): undefined {
    if (err instanceof NoNodeError) return undefined;
    if (err instanceof ModelError) {
      this.logger.error(`skipping unreadable ${what} ${path}: ${err.reason}`, { path, [what]: path.slice(path.lastIndexOf('/') + 1) });
      return undefined;
    }
    throw err;
  }
}

/**
 * A copy callers may change freely at the top level (every engine write replaces fields; none
 * edits nested objects in place), with its own arrays for the two lists that get rebuilt.
 */
function shallowCopy(node: Node): Node {
  const copy = Object.assign(new Node(node.id), node);
  copy.type = [...node.type];
  copy.host_keys = [...node.host_keys];
  return copy;
}

function requireId(id: string | null, what: string): string {
  if (!id) throw new Error(`${what} has no id (not stored yet)`);
  return id;
}
