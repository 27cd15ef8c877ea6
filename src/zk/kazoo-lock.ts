/**
 * kazoo's exclusive `Lock` recipe (kazoo 2.9.0 `kazoo/recipe/lock.py`, spec §3), so Python
 * Nodepool, Zuul and we exclude each other on the same lock directories.
 *
 * A lock at `P` is the set of children of `P`. Each contender creates
 * `P/<uuid4 hex>__lock__<seq10>` (ephemeral+sequential; persistent for metastatic backing nodes)
 * holding its identifier; the contender with the lowest sequence (compared as strings) holds the
 * lock, and everybody else watches the next-lower contender.
 */
import { randomUUID } from 'node:crypto';
import type { LockAcquireOptions, ZkWatcher, ZooKeeperClient, ZooKeeperLock } from '../plugins/zookeeper';
import { ConnectionLossError, NodeExistsError, NoNodeError, SessionExpiredError } from './zk-errors';
import { contenderSequence, sortContenders } from './lock-contenders';
import { joinPath, mapLimit, parentPath } from './zk-path';


/** kazoo's contender name infix. */
const NODE_NAME = '__lock__';

/** Internal signal: our contender vanished or a reply was lost; start over (kazoo ForceRetryError). */
class RetryAcquire extends Error {}

/** A lock acquire was cancelled with {@link KazooLock.cancel}. */
export class LockCancelledError extends Error {
  constructor(path: string) {
    super(`lock acquire on ${path} cancelled`);
    this.name = 'LockCancelledError';
  }
}

/** The events of the client a lock listens to. */
type LockClient = ZooKeeperClient;

/** kazoo's exclusive lock; see the module comment. One acquire at a time per object. */
export class KazooLock implements ZooKeeperLock {
  /** `<uuid4 hex>__lock__`: lets us find our own contender after a lost create reply. */
  readonly prefix = randomUUID().replace(/-/g, '') + NODE_NAME;
  readonly identifier: string;
  private contenderNode: string | null = null;
  private acquired = false;
  private ephemeral = true;
  private createTried = false;
  private assuredPath = false;
  private acquiring = false;
  private cancelled = false;
  private wake: (() => void) | undefined;
  private readonly lostListeners = new Set<() => void>();
  private readonly onSessionLost = (): void => this.sessionLost();

  constructor(
    private readonly client: LockClient,
    /** The lock directory. */
    readonly path: string,
    identifier?: string,
    /**
     * Never re-create the lock directory's parent: acquiring fails with NoNodeError when it is
     * gone. kazoo's ensure_path re-creates a deleted node's znode empty when anyone locks it late
     * (spec §3.3); node locks use this so our launchers, racing to delete one node, leave no such
     * empty znodes behind for the cleanup to find.
     */
    private readonly parentMustExist = false,
    /** Try creating the lock dir with our contender first (see createContender). */
    private readonly preferClaim = false,
    /**
     * Told of each child of the lock dir that is not a contender, when one is seen while
     * acquiring. Such children are ignored, as kazoo ignores them; the caller reports them.
     */
    private readonly onForeignChild?: (childPath: string) => void,
  ) {
    this.identifier = identifier ?? '';
  }

  get node(): string | null {
    return this.contenderNode;
  }

  get isAcquired(): boolean {
    return this.acquired;
  }

  /**
   * Acquires the lock (kazoo `acquire(blocking, timeout, ephemeral)`). Returns false on a
   * non-blocking miss or when `timeout` seconds pass (kazoo raises LockTimeout there); in both
   * cases our contender znode is deleted. Connection blips are retried; a session loss while
   * waiting rejects with SessionExpiredError.
   */
  async acquire(options: LockAcquireOptions = {}): Promise<boolean> {
    const blocking = options.blocking ?? true;
    if (this.acquiring) throw new Error(`lock ${this.path}: acquire already in progress`);
    if (this.acquired) {
      if (!blocking) return false;
      throw new Error(`lock ${this.path} is already held by this object (not re-entrant)`);
    }
    this.acquiring = true;
    this.cancelled = false;
    this.createTried = false;
    this.ephemeral = options.ephemeral ?? true;
    const deadline = options.timeout === undefined || options.timeout === null ? undefined : Date.now() + options.timeout * 1000;
    // A session loss (or the client closing) while we wait must wake us; an ephemeral contender
    // died with the session.
    let sessionLost = false;
    const onLost = (): void => {
      sessionLost = true;
      this.wake?.();
    };
    this.client.on('lost', onLost);
    this.client.on('closed', onLost);
    try {
      let gotten = false;
      for (let attempt = 0; ; attempt++) {
        if (sessionLost) throw new SessionExpiredError(this.path, 'session lost while acquiring the lock');
        try {
          gotten = await this.innerAcquire(blocking, deadline, () => sessionLost);
          break;
        } catch (err) {
          const retryable = err instanceof RetryAcquire || err instanceof ConnectionLossError;
          if (!retryable) throw err;
          if (deadline !== undefined && Date.now() >= deadline) break;
          await sleep(Math.min(50 * 2 ** attempt, 1000));
        }
      }
      if (gotten) {
        this.acquired = true;
        if (this.ephemeral) this.client.on('lost', this.onSessionLost);
      } else {
        await this.bestEffortCleanup();
      }
      return gotten;
    } catch (err) {
      await this.bestEffortCleanup();
      throw err;
    } finally {
      this.client.off('lost', onLost);
      this.client.off('closed', onLost);
      this.acquiring = false;
      this.wake = undefined;
    }
  }

  /** Wakes a blocked acquire, which then rejects with {@link LockCancelledError} (kazoo `cancel`). */
  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  /**
   * Full path of our contender while we hold the lock, so a caller can delete it inside a
   * `multi` together with the writes it guards (then call {@link releasedByMulti}).
   */
  get contenderPath(): string | null {
    return this.acquired && this.contenderNode !== null ? joinPath(this.path, this.contenderNode) : null;
  }

  /** Our contender was deleted by a committed `multi`: forget the lock without another delete. */
  releasedByMulti(): void {
    if (this.acquired) this.markReleased();
  }

  /** Deletes our contender znode (kazoo `release`); NoNode is fine, the lock dir stays. */
  async release(): Promise<boolean> {
    if (!this.acquired || this.contenderNode === null) return false;
    await this.deleteContender(joinPath(this.path, this.contenderNode));
    this.markReleased();
    return true;
  }

  /**
   * Deletes our contender, retrying through connection trouble for as long as it lasts. Giving
   * up early would leave the contender in place whenever the session itself survives (a
   * connection blip, a ZooKeeper leader election): the lock would then stay held by a live
   * session that no longer uses it, for ever, and the node or request behind it would never be
   * served or deleted (found by the ensemble fault test, where a failover outlasted the 3 s of
   * retries this had). The loop ends when the delete succeeds, the contender is gone (NoNode:
   * an ephemeral one dies with a lost session, after which the client's next session answers
   * NoNode), the client is closed, or after {@link RELEASE_RETRY_MS}.
   */
  private async deleteContender(nodePath: string): Promise<void> {
    const giveUp = Date.now() + RELEASE_RETRY_MS;
    // An ephemeral contender is gone once its session is: no need to wait for a server then.
    let sessionGone = false;
    const onLost = (): void => {
      sessionGone = true;
    };
    this.client.on('lost', onLost);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.client.delete(nodePath);
          return;
        } catch (err) {
          if (err instanceof NoNodeError) return;
          if (this.ephemeral && (sessionGone || this.client.state === 'lost')) return;
          // The next attempt goes to the current (possibly new) session; a persistent contender
          // must still be deleted there.
          const transient = err instanceof ConnectionLossError || err instanceof SessionExpiredError;
          if (!transient || this.client.state === 'closed' || Date.now() > giveUp) throw err;
          await sleep(Math.min(100 * 2 ** attempt, 2000));
        }
      }
    } finally {
      this.client.off('lost', onLost);
    }
  }

  /**
   * Identifiers of all contenders in sequence order, holder first (kazoo `contenders()`):
   * ensures the lock dir, skips contenders that vanish meanwhile or carry null data.
   */
  async contenders(): Promise<string[]> {
    if (!this.assuredPath) {
      await this.client.ensurePath(this.path);
      this.assuredPath = true;
    }
    let children: string[];
    try {
      children = await this.client.getChildren(this.path);
    } catch (err) {
      // The lock dir went away with its node between the ensure and the read: nobody holds it.
      if (err instanceof NoNodeError) return [];
      throw err;
    }
    const names = sortContenders(children);
    const data = await mapLimit(names, 16, async (name) => {
      try {
        return (await this.client.get(joinPath(this.path, name))).data;
      } catch (err) {
        if (err instanceof NoNodeError) return null;
        throw err;
      }
    });
    return data.filter((d): d is Buffer => d !== null).map((d) => d.toString('utf8'));
  }

  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** kazoo `_inner_acquire`: create (or find) our contender, then wait until it is the lowest. */
  private async innerAcquire(blocking: boolean, deadline: number | undefined, sessionLost: () => boolean): Promise<boolean> {
    let node: string | null = null;
    if (this.createTried) node = await this.findNode();
    else this.createTried = true;
    let sole = false;
    if (!node) {
      // kazoo ensures the lock dir first; creating the contender straight away and ensuring the
      // dir only when that fails has the same result, including kazoo's quirk of re-creating a
      // deleted node's znode empty, with fewer round trips.
      const created = await this.createContender();
      this.assuredPath = true;
      node = created.path.slice(this.path.length + 1);
      sole = created.sole;
    }
    this.contenderNode = node;
    // We created the lock dir together with our contender: nobody else can be in it, and
    // whoever comes later gets a higher sequence. The lock is ours without listing it.
    if (sole) return true;
    for (;;) {
      if (this.cancelled) throw new LockCancelledError(this.path);
      if (sessionLost()) throw new SessionExpiredError(this.path, 'session lost while acquiring the lock');
      const predecessor = await this.getPredecessor(node);
      if (predecessor === null) return true;
      if (!blocking) return false;
      const outcome = await this.waitForDeletion(joinPath(this.path, predecessor), deadline);
      if (outcome === 'timeout') return false;
    }
  }

  /**
   * Creates our contender. When the lock dir is missing, it is created in one transaction with
   * the contender (`sole`: then ours is the only contender). `preferClaim` tries that first,
   * for lock dirs that most likely do not exist yet (a node never locked before).
   */
  private async createContender(): Promise<{ path: string; sole: boolean }> {
    const contender = joinPath(this.path, this.prefix);
    const data = Buffer.from(this.identifier, 'utf8');
    const flags = { ephemeral: this.ephemeral, sequential: true };
    const plain = async (): Promise<{ path: string; sole: boolean }> => ({ path: await this.client.create(contender, data, flags), sole: false });
    const claim = async (): Promise<{ path: string; sole: boolean } | undefined> => {
      try {
        const results = await this.client.multi([{ op: 'create', path: this.path }, { op: 'create', path: contender, data, ...flags }]);
        return { path: (results[1] as { path: string }).path, sole: true };
      } catch (err) {
        // Somebody made the dir meanwhile: an ordinary create then.
        if (err instanceof NodeExistsError && err.path === this.path) return undefined;
        throw err;
      }
    };
    const claimWithParents = async (): Promise<{ path: string; sole: boolean }> => {
      try {
        return (await claim()) ?? (await plain());
      } catch (err) {
        // The dir's parent is missing. A node lock never re-creates its node (parentMustExist).
        if (!(err instanceof NoNodeError) || err.path !== this.path || this.parentMustExist) throw err;
      }
      await this.client.ensurePath(parentPath(this.path));
      return (await claim()) ?? (await plain());
    };
    if (this.preferClaim && !this.assuredPath) return claimWithParents();
    try {
      return await plain();
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    return claimWithParents();
  }

  /**
   * kazoo 2.9 `_get_predecessor`: the contender with the largest sequence below ours, or null
   * when ours is the lowest. Our own znode missing means a session failure: start over.
   */
  private async getPredecessor(node: string): Promise<string | null> {
    const children = await this.client.getChildren(this.path);
    const ours = contenderSequence(node);
    if (ours === undefined || !children.includes(node)) throw new RetryAcquire();
    let best: { name: string; seq: string } | null = null;
    for (const name of children) {
      const seq = contenderSequence(name);
      if (seq === undefined) this.onForeignChild?.(joinPath(this.path, name));
      if (seq === undefined || name === node || !(seq < ours)) continue;
      if (best === null || seq > best.seq) best = { name, seq };
    }
    return best?.name ?? null;
  }

  /** Waits for a data watch on `path` (or a wake-up); 'gone' also when it is already deleted. */
  private async waitForDeletion(path: string, deadline: number | undefined): Promise<'gone' | 'timeout'> {
    let fired = false;
    let resolveWait: () => void = () => {};
    const woken = new Promise<void>((resolve) => (resolveWait = resolve));
    const wake = (): void => {
      fired = true;
      resolveWait();
    };
    this.wake = wake;
    const watcher: ZkWatcher = () => wake();
    try {
      await this.client.get(path, watcher);
    } catch (err) {
      if (err instanceof NoNodeError) return 'gone';
      throw err;
    }
    // Also re-evaluate on connection changes, like kazoo's session listener.
    const onState = (): void => wake();
    this.client.on('suspended', onState);
    this.client.on('connected', onState);
    try {
      if (deadline === undefined) {
        await woken;
        return 'gone';
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return fired ? 'gone' : 'timeout';
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining)))]);
      clearTimeout(timer);
      return fired ? 'gone' : 'timeout';
    } finally {
      this.client.off('suspended', onState);
      this.client.off('connected', onState);
    }
  }

  /** kazoo `_find_node`: our contender from an earlier create whose reply may have been lost. */
  private async findNode(): Promise<string | null> {
    let children: string[];
    try {
      children = await this.client.getChildren(this.path);
    } catch (err) {
      // A lost claim (dir + contender) that did not happen: no dir, no contender.
      if (err instanceof NoNodeError) return null;
      throw err;
    }
    return children.find((child) => child.startsWith(this.prefix)) ?? null;
  }

  /**
   * kazoo `_best_effort_cleanup`: delete our contender if any; never throws. Unlike kazoo it
   * retries through connection loss (see {@link deleteContender}): a contender left behind by a
   * session that survives the outage would block the lock for good.
   */
  private async bestEffortCleanup(): Promise<void> {
    try {
      let node = this.contenderNode;
      for (let attempt = 0; !node && this.createTried && attempt < 50; attempt++) {
        try {
          node = await this.findNode();
          break;
        } catch (err) {
          if (!(err instanceof ConnectionLossError) || this.client.state === 'closed') throw err;
          await sleep(Math.min(100 * 2 ** attempt, 2000));
        }
      }
      if (node) await this.deleteContender(joinPath(this.path, node));
    } catch {
      // Given up (client closed, or the time limit): an ephemeral contender dies with the
      // session at the latest.
    }
    this.contenderNode = null;
  }

  private sessionLost(): void {
    if (!this.acquired || !this.ephemeral) return;
    this.markReleased();
    for (const listener of [...this.lostListeners]) listener();
  }

  private markReleased(): void {
    this.acquired = false;
    this.contenderNode = null;
    this.client.off('lost', this.onSessionLost);
  }
}

/** How long a release keeps retrying through connection trouble before it gives up, ms. */
const RELEASE_RETRY_MS = 5 * 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
