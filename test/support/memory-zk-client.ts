/**
 * An in-memory ZooKeeperClient for unit tests of code above the client (locks, stores): a tree
 * with per-parent sequence counters, one-shot watches, and fault injection. Not a ZooKeeper
 * emulator: no sessions beyond a `lose()` switch that drops ephemerals and emits `lost`.
 */
import { EventEmitter } from 'node:events';
import type {
  EphemeralRegistration, ZkClientEvents, ZkConnectionState, ZkCreateOptions, ZkOp, ZkOpResult, ZkWatcher,
  ZnodeStat, ZooKeeperClient,
} from '../../src/plugins/zookeeper';
import { ConnectionLossError, NodeExistsError, NoNodeError, NotEmptyError, BadVersionError } from '../../src/zk/zk-errors';
import { parentPath } from '../../src/zk/zk-path';

interface MemNode {
  data: Buffer | null;
  version: number;
  cversion: number;
  ephemeral: boolean;
}

/** The fake client; see the module comment. */
export class MemoryZkClient implements ZooKeeperClient {
  readonly nodes = new Map<string, MemNode>([['/', { data: Buffer.alloc(0), version: 0, cversion: 0, ephemeral: false }]]);
  state: ZkConnectionState = 'connected';
  sessionId: string | null = '00000000000000aa';
  /** Creates that succeed on the "server" but report CONNECTION_LOSS (a lost reply). */
  lostCreateReplies = 0;
  /** Every call, as `op path`. */
  readonly calls: string[] = [];
  private readonly emitter = new EventEmitter();
  private readonly watches = new Map<string, Set<ZkWatcher>>();

  on<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends keyof ZkClientEvents>(event: E, listener: ZkClientEvents[E]): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Listeners currently registered for an event. */
  listenerCount(event: keyof ZkClientEvents): number {
    return this.emitter.listenerCount(event);
  }

  /** Simulates a session loss: ephemerals vanish (firing watches), then `lost` is emitted. */
  lose(): void {
    for (const [path, node] of [...this.nodes]) if (node.ephemeral) this.remove(path);
    this.sessionId = '00000000000000bb';
    this.emitter.emit('lost', { sessionId: '00000000000000aa', reason: 'expired' });
  }

  /** Simulates closing the client: emits `closed`. */
  close(): void {
    this.state = 'closed';
    this.emitter.emit('closed');
  }

  async create(path: string, data: Buffer = Buffer.alloc(0), options: ZkCreateOptions = {}): Promise<string> {
    this.calls.push(`create ${path}`);
    const parent = parentPath(path);
    const p = this.nodes.get(parent);
    if (!p) throw new NoNodeError(path);
    let full = path;
    if (options.sequential) full = `${path}${String(p.cversion).padStart(10, '0')}`;
    if (this.nodes.has(full)) throw new NodeExistsError(full);
    p.cversion++;
    this.nodes.set(full, { data, version: 0, cversion: 0, ephemeral: !!options.ephemeral });
    this.fire(parent, 'children');
    this.fire(full, 'created');
    if (this.lostCreateReplies > 0) {
      this.lostCreateReplies--;
      throw new ConnectionLossError(path, 'injected lost reply');
    }
    return full;
  }

  async get(path: string, watch?: ZkWatcher): Promise<{ data: Buffer | null; stat: ZnodeStat }> {
    this.calls.push(`get ${path}`);
    const node = this.nodes.get(path);
    if (!node) throw new NoNodeError(path);
    if (watch) this.watch(path, watch);
    return { data: node.data, stat: this.stat(node) };
  }

  async set(path: string, data: Buffer, version = -1): Promise<ZnodeStat> {
    const node = this.nodes.get(path);
    if (!node) throw new NoNodeError(path);
    if (version !== -1 && version !== node.version) throw new BadVersionError(path);
    node.data = data;
    node.version++;
    this.fire(path, 'changed');
    return this.stat(node);
  }

  async exists(path: string, watch?: ZkWatcher): Promise<ZnodeStat | null> {
    const node = this.nodes.get(path);
    if (watch) this.watch(path, watch);
    return node ? this.stat(node) : null;
  }

  async getChildren(path: string): Promise<string[]> {
    this.calls.push(`getChildren ${path}`);
    if (!this.nodes.has(path)) throw new NoNodeError(path);
    return this.childNames(path);
  }

  async delete(path: string): Promise<void> {
    this.calls.push(`delete ${path}`);
    if (!this.nodes.has(path)) throw new NoNodeError(path);
    if (this.childNames(path).length > 0) throw new NotEmptyError(path);
    this.remove(path);
  }

  async deleteRecursive(path: string): Promise<void> {
    for (const child of this.nodes.has(path) ? this.childNames(path) : []) await this.deleteRecursive(`${path}/${child}`);
    if (this.nodes.has(path)) this.remove(path);
  }

  async ensurePath(path: string): Promise<void> {
    if (this.nodes.has(path)) return;
    await this.ensurePath(parentPath(path));
    await this.create(path);
  }

  async multi(_ops: ZkOp[]): Promise<ZkOpResult[]> {
    throw new Error('multi is not supported by MemoryZkClient');
  }

  async registerEphemeral(): Promise<EphemeralRegistration> {
    throw new Error('registerEphemeral is not supported by MemoryZkClient');
  }

  private childNames(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.nodes.keys()].filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
  }

  private remove(path: string): void {
    this.nodes.delete(path);
    const parent = this.nodes.get(parentPath(path));
    if (parent) parent.cversion++;
    this.fire(path, 'deleted');
    this.fire(parentPath(path), 'children');
  }

  private watch(path: string, watcher: ZkWatcher): void {
    const set = this.watches.get(path) ?? new Set<ZkWatcher>();
    set.add(watcher);
    this.watches.set(path, set);
  }

  private fire(path: string, type: 'created' | 'deleted' | 'changed' | 'children'): void {
    if (type === 'children') return; // child watches are not needed by the users of this fake
    const set = this.watches.get(path);
    this.watches.delete(path);
    for (const w of set ?? []) queueMicrotask(() => w({ type, path }));
  }

  private stat(node: MemNode): ZnodeStat {
    return {
      czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: node.version, cversion: node.cversion, aversion: 0,
      ephemeralOwner: node.ephemeral ? (this.sessionId ?? '0') : '0000000000000000', ephemeral: node.ephemeral,
      dataLength: node.data?.length ?? 0, numChildren: 0, pzxid: 0,
    };
  }
}
