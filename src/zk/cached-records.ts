/**
 * NodepoolZk's watch-maintained copies of `/nodepool/nodes`, `/nodepool/requests` and the pool
 * components, read as records. Every reader (each pool pass, each change listener, the
 * deleted-node worker, stats) gets copies of one parse per record version: hostile bodies cost
 * milliseconds each, and a few hundred of them parsed on every pass took the launcher's whole
 * CPU (issue 19).
 */
import type { Logger } from '../plugins/logger';
import type { NodeQuery, RecordListener, ZooKeeperClient } from '../plugins/zookeeper';
import { parseComponent, type PoolComponentRecord } from './models/component';
import { Node } from './models/node';
import { NodeRequest } from './models/node-request';
import { NODE_ROOT, REQUEST_ROOT, componentPath, nodePath, requestPath } from './nodepool-paths';
import type { RecordParser } from './record-parser';
import { ZnodeCache, type CachedZnode } from './znode-cache';

/** See the module comment. The caches exist between {@link start} and {@link stop}. */
export class CachedRecords {
  node: ZnodeCache | undefined;
  request: ZnodeCache | undefined;
  pool: ZnodeCache | undefined;

  /** Which providers' node changes are read as they happen (see {@link followProviders}). */
  private followed: ((provider: string) => boolean) | undefined;
  /** Which requests' changes are read as they happen (see {@link followRequests}). */
  private interested: ((request: NodeRequest, pools: readonly PoolComponentRecord[]) => boolean) | undefined;
  /** Whether another launcher may create nodes of a followed provider (see {@link followNodeCreates}). */
  private othersCreate: (() => boolean) | undefined;
  /** Which new requests are read as they come (see {@link followRequestCreates}). */
  private createInterest: { interested: (id: string, pools: readonly PoolComponentRecord[]) => boolean; readAfterMs?: number } | undefined;
  private poolsOff: (() => void) | undefined;
  /** A {@link revisitUnreadRequests} waits for the pool cache. */
  private revisiting = false;

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly logger: Logger,
    private readonly parser: RecordParser,
  ) {}

  async start(): Promise<void> {
    this.node ??= new ZnodeCache(this.client, NODE_ROOT, this.logger);
    this.request ??= new ZnodeCache(this.client, REQUEST_ROOT, this.logger);
    // Pool components are read on every pool pass (decline and yield rules).
    this.pool ??= new ZnodeCache(this.client, componentPath('pool'), this.logger);
    this.node.setLazy(this.lazyNode());
    this.request.setLazy(this.lazyRequest());
    this.setNodeCreateRule();
    this.setRequestCreateRule();
    // A pool that came, went or paused may make another launcher the reader of a request left unread.
    this.poolsOff ??= this.pool.subscribe(() => this.revisitUnreadRequests());
    await Promise.all([this.node.start(), this.request.start(), this.pool.start()]);
  }

  stop(): void {
    this.poolsOff?.();
    this.poolsOff = undefined;
    for (const cache of [this.node, this.request, this.pool]) cache?.stop();
    this.node = undefined;
    this.request = undefined;
    this.pool = undefined;
  }

  /**
   * Changes of nodes of providers `followed` rejects are not read as they happen: such a node is
   * read when a caller asks for it ({@link freshNodes}). Undefined: every change is read.
   */
  followProviders(followed: ((provider: string) => boolean) | undefined): void {
    this.followed = followed;
    this.node?.setLazy(this.lazyNode());
    // The followed set may have grown: nodes left unread so far may be of it now.
    this.setNodeCreateRule();
  }

  /**
   * Nodes created by somebody else are left unread (placeholders, see LazyCreates)
   * while `othersCreate` says that no other launcher may create nodes of a provider we follow:
   * such a node is then known not to be ours, and is read only when a caller asks for nodes of
   * other providers (or all). Needs {@link followProviders}. Undefined: every create is read.
   */
  followNodeCreates(othersCreate: (() => boolean) | undefined): void {
    this.othersCreate = othersCreate;
    this.setNodeCreateRule();
  }

  private setNodeCreateRule(): void {
    const othersCreate = this.othersCreate;
    this.node?.unread.setRule(othersCreate && (() => this.followed !== undefined && !othersCreate()));
  }

  /**
   * A new request `interested` rejects (given the pool components, which must be loaded with no
   * read in flight) is left unread: read when a caller asks for it, when a pool change makes
   * `interested` accept it, when {@link readRequestNow} is called for it, or `readAfterMs` after
   * its create. Undefined: every create is read.
   */
  followRequestCreates(interested: ((id: string, pools: readonly PoolComponentRecord[]) => boolean) | undefined, options: { readAfterMs?: number } = {}): void {
    this.createInterest = interested && { interested, readAfterMs: options.readAfterMs };
    this.setRequestCreateRule();
  }

  private setRequestCreateRule(): void {
    const rule = this.createInterest;
    this.request?.unread.setRule(
      rule &&
        ((id) => {
          const pools = this.pool?.settled ? this.pools() : undefined;
          return pools !== undefined && !rule.interested(id, pools);
        }),
      { readAfterMs: rule?.readAfterMs },
    );
  }

  /**
   * After a change of the pool records, reads the unread requests the rule accepts now. Judged
   * once the pool cache has caught up: the change is announced from inside its read, when the
   * cache is not settled yet, and judging then read every unread request on every pool change.
   */
  private revisitUnreadRequests(): void {
    if (this.revisiting || !this.createInterest || (this.request?.unread.unreadIds().length ?? 0) === 0) return;
    this.revisiting = true;
    void (this.pool?.caughtUp() ?? Promise.resolve()).then(() => {
      this.revisiting = false;
      const cache = this.request;
      const rule = this.createInterest;
      if (!cache || !rule) return;
      const unread = cache.unread.unreadIds();
      const pools = this.pool?.settled ? this.pools() : undefined;
      const due = pools ? unread.filter((id) => rule.interested(id, pools)) : unread;
      if (due.length > 0) void cache.freshen(due).catch(() => undefined);
    });
  }

  /** When request `id`, once left unread, was first seen (ms; 0 when read on request); undefined for others. */
  requestSeenAt(id: string): number | undefined {
    return this.request?.unread.seenAt(id);
  }

  /** Reads request `id` now if it was left unread, counting it as waited for. */
  readRequestNow(id: string): Promise<void> {
    return this.request?.unread.readNow(id) ?? Promise.resolve();
  }

  private lazyNode(): ((entry: CachedZnode) => boolean) | undefined {
    const followed = this.followed;
    if (!followed) return undefined;
    return (entry) => {
      const provider = entry.data.length > 0 ? this.parsedNode(entry)?.provider : undefined;
      return typeof provider === 'string' && !followed(provider);
    };
  }

  /**
   * Changes of a request cached as `requested` that `interested` rejects (given the pool
   * components) are not read as they happen: the request is read when a caller asks for it
   * ({@link freshRequests}, {@link freshRequest}). Undefined: every change is read.
   */
  followRequests(interested: ((request: NodeRequest, pools: readonly PoolComponentRecord[]) => boolean) | undefined): void {
    this.interested = interested;
    this.request?.setLazy(this.lazyRequest());
  }

  private lazyRequest(): ((entry: CachedZnode) => boolean) | undefined {
    const interested = this.interested;
    if (!interested) return undefined;
    return (entry) => {
      const request = entry.data.length > 0 ? this.parsedRequest(entry) : undefined;
      const pools = request?.state === 'requested' ? this.pools() : undefined;
      return pools !== undefined && !interested(request as NodeRequest, pools);
    };
  }

  /** Whether a change of request `id` was seen and not read yet (see {@link followRequests}). */
  isRequestStale(id: string): boolean {
    return this.request?.isStale(id) ?? false;
  }

  /** The cached request `id` (a copy), read first if stale; undefined when gone, unreadable or not synced. */
  async freshRequest(id: string): Promise<NodeRequest | undefined> {
    const cache = this.request;
    if (!cache?.isSynced) return undefined;
    if (cache.isStale(id)) await cache.freshen([id]);
    return this.requestOf(cache.get(id));
  }

  onNodeChange(listener: RecordListener<Node>): () => void {
    const cache = this.node;
    if (!cache) return () => undefined;
    return cache.subscribe((id, current, previous) => listener(id, this.nodeOf(current), this.nodeOf(previous)));
  }

  onRequestChange(listener: RecordListener<NodeRequest>): () => void {
    const cache = this.request;
    if (!cache) return () => undefined;
    return cache.subscribe((id, current, previous) => listener(id, this.requestOf(current), this.requestOf(previous)));
  }

  /** A copy of the node a cached entry holds; undefined when empty or unreadable. */
  nodeOf(entry: CachedZnode | undefined): Node | undefined {
    const node = entry && this.parsedNode(entry);
    return node && copyNode(node);
  }

  /** A copy of the request a cached entry holds; undefined when empty or unreadable. */
  requestOf(entry: CachedZnode | undefined): NodeRequest | undefined {
    if (!entry || entry.data.length === 0) return undefined;
    const request = this.parsedRequest(entry);
    return request && copyRequest(request);
  }

  /** The memoised parse of a cached request body (not a copy: read only). */
  private parsedRequest(entry: CachedZnode): NodeRequest | undefined {
    const { id, data, version } = entry;
    const path = requestPath(id);
    return this.parser.cached('request', path, version, data, () => NodeRequest.parse(id, data, version, path));
  }

  /**
   * Copies of the cached nodes `filter` accepts, within `query`; stale nodes in scope are read
   * first unless `query.stale` says otherwise. Undefined while the cache is not synced.
   */
  async freshNodes(filter: ((node: Node) => boolean) | undefined, query: NodeQuery = {}): Promise<Node[] | undefined> {
    const cache = this.node;
    if (!cache?.isSynced) return undefined;
    if ((query.stale ?? 'read') === 'read') {
      const stale = cache.staleIds().filter((id) => {
        const entry = cache.get(id);
        if (cache.unread.isUnread(id)) return this.unreadInScope(id, query);
        return entry !== undefined && inScope(entry.data.length > 0 ? this.parsedNode(entry) : undefined, query);
      });
      if (stale.length > 0) await cache.freshen(stale);
    }
    return this.nodes(filter, query);
  }

  /**
   * Whether node placeholder `id` may be of a provider `query` wants: it was left unread because
   * no other launcher could create nodes of a provider we follow, so not if `query` wants only
   * those (unless the followed set changed since).
   */
  private unreadInScope(id: string, query: NodeQuery): boolean {
    const followed = this.followed;
    if (!query.providers || !followed || !this.node?.unread.isCurrent(id)) return true;
    for (const provider of query.providers) if (!followed(provider)) return true;
    return false;
  }

  /** Copies of the cached nodes `filter` accepts, within `query`, as cached; undefined while not synced. */
  nodes(filter?: (node: Node) => boolean, query: NodeQuery = {}): Node[] | undefined {
    const cache = this.node;
    if (!cache?.isSynced) return undefined;
    const omit = query.stale === 'omit';
    const nodes: Node[] = [];
    for (const entry of cache.values()) {
      const parsed = this.parsedNode(entry);
      // Filtered before copying: most passes want a few nodes of one provider.
      if (!parsed || (query.providers && !(parsed.provider && query.providers.has(parsed.provider))) || (omit && cache.isStale(entry.id))) continue;
      if (!filter || filter(parsed)) nodes.push(copyNode(parsed));
    }
    return nodes;
  }

  /** Copies of the cached requests, stale ones read first unless `stale` is `keep`; undefined while not synced. */
  async freshRequests(stale: 'read' | 'keep' = 'read'): Promise<NodeRequest[] | undefined> {
    const cache = this.request;
    if (!cache?.isSynced) return undefined;
    const ids = stale === 'read' ? cache.staleIds() : [];
    if (ids.length > 0) await cache.freshen(ids);
    return this.requests();
  }

  /** Copies of the cached requests; undefined while the cache is not synced. */
  requests(): NodeRequest[] | undefined {
    if (!this.request?.isSynced) return undefined;
    return this.request.values().map((e) => this.requestOf(e)).filter((r): r is NodeRequest => r !== undefined);
  }

  /** The cached pool components (read only by callers); undefined while not synced. */
  pools(): PoolComponentRecord[] | undefined {
    const cache = this.pool;
    if (!cache?.isSynced) return undefined;
    const records: PoolComponentRecord[] = [];
    for (const entry of cache.values()) {
      const path = `${cache.root}/${entry.id}`;
      const record = this.parser.cached('component', path, entry.version, entry.data, () => parseComponent(path, entry.data) as PoolComponentRecord);
      if (record) records.push(record);
    }
    return records;
  }

  /** Ids of cached request znodes whose body cannot be read (over the size bound, not a request); undefined while not synced. */
  unreadableRequestIds(): string[] | undefined {
    if (!this.request?.isSynced) return undefined;
    return this.request.values().filter((e) => e.data.length > 0 && this.parsedRequest(e) === undefined).map((e) => e.id);
  }

  /** Ids of cached node znodes with an empty body; undefined while not synced. */
  emptyNodeIds(): string[] | undefined {
    if (!this.node?.isSynced) return undefined;
    return this.node.values().filter((e) => e.data.length === 0 && !this.node?.unread.isUnread(e.id)).map((e) => e.id);
  }

  private parsedNode(entry: CachedZnode): Node | undefined {
    // An empty znode is what a lock's ensure_path leaves behind for a deleted node (spec §3.3).
    if (entry.data.length === 0) return undefined;
    const { id, data, version } = entry;
    const path = nodePath(id);
    return this.parser.cached('node', path, version, data, () => Node.parse(id, data, version, path));
  }
}

/** Whether a node (undefined: unknown, unreadable) may be one of the providers `query` wants. */
function inScope(node: Node | undefined, query: NodeQuery): boolean {
  return !query.providers || !node?.provider || query.providers.has(node.provider);
}

/**
 * A copy callers may change freely at the top level (every engine write replaces fields; none
 * edits nested objects in place), with its own arrays for the two lists that get rebuilt.
 */
function copyNode(node: Node): Node {
  const copy = Object.assign(new Node(node.id), node);
  copy.type = [...node.type];
  copy.host_keys = [...node.host_keys];
  return copy;
}

/**
 * A copy of a request in the same way. `node_types` is shared: nobody changes it in place, and
 * per-version judgements of it are memoised by its identity.
 */
function copyRequest(request: NodeRequest): NodeRequest {
  const copy = Object.assign(new NodeRequest(request.id), request);
  copy.declined_by = [...request.declined_by];
  copy.nodes = [...request.nodes];
  return copy;
}
