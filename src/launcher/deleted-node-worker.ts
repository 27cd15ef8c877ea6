/**
 * The DeletedNodeWorker (spec §4.7, LCH:864-991): every few seconds, for nodes of our providers
 * that nobody holds locked, de-allocates ready nodes whose request is gone and deletes nodes
 * that are done with (`used`, `failed`, `deleting`, ...) through the provider's deleter. An
 * abandoned `building` node whose launch can be resumed is launched on instead (launch-resume.ts).
 */
import { setMaxListeners } from 'node:events';
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import { NodeDeleter } from '../plugins/node-deleter';
import { resumeLaunch } from './launch-resume';
import type { Tracer } from '../plugins/tracer';
import type { ZooKeeper } from '../plugins/zookeeper';
import { SerialRunner } from './serial-runner';
import { mapLimit } from '../zk/zk-path';
import type { Node, NodeState } from '../zk/models/node';

/** States whose nodes are deleted (not `init`, `ready`, `hold`, `testing`; LCH:896-906). */
/** How long a node somebody else marked `deleting` waits before we delete it, ms (see deferForeignDeleting). */
const FOREIGN_DELETING_GRACE_MS = 3000;

const DELETABLE: ReadonlySet<NodeState> = new Set<NodeState>(['used', 'in-use', 'building', 'failed', 'deleting', 'deleted', 'aborted']);

/** Nodes handled at once within one pass (locks and ZooKeeper writes; cloud deletes run apart). */
const PARALLEL_DELETES = 8;
/**
 * Cloud deletes in flight per provider. Nodepool advances every delete state machine of a
 * provider at once (SM:755-794), bounded only by the provider's API rate, which our drivers
 * apply themselves; this bound only keeps a flood of returned nodes from opening thousands.
 */
const DELETES_IN_FLIGHT_PER_PROVIDER = 200;

/** How to build a {@link DeletedNodeWorker}. */
export interface DeletedNodeWorkerOptions {
  zk: ZooKeeper;
  /** Our running providers by name; nodes of other providers are left to their launchers. */
  providers: ReadonlyMap<string, Provider>;
  logger: Logger;
  tracer?: Tracer;
  /** Pass period, ms (default 5000 as in Nodepool). */
  intervalMs?: number;
  /** Poll interval of resumed launches, ms (see launch-resume.ts). */
  launchPollMs?: number;
}

/** See the module comment. */
export class DeletedNodeWorker {
  private readonly log: Logger;
  private readonly runner: SerialRunner;
  private stopped = false;
  private unsubscribe: Array<() => void> = [];
  // Nodes named by events since the last pass; a timer pass (or wake()) covers all of them.
  private readonly woken = new Set<string>();
  private wokenAll = false;
  private readonly retries = new Map<string, number>();
  /** provider.nodeDeleted hooks still running (see {@link deleted}). */
  private readonly hooks = new Set<Promise<void>>();
  /**
   * Cloud deletes running (node id → provider name): a pass hands a locked node to its
   * provider's deleter and goes on; a slow cloud delete holds up neither the pass nor the nodes
   * returned after it (after a gate reset hundreds come back at once).
   */
  private readonly deleting = new Map<string, { provider: string; object: Provider; run: Promise<void> }>();
  /** Launches of dead launchers resumed here (node id → run); not bounded like the deletes. */
  private readonly resuming = new Map<string, { object: Provider; run: Promise<void> }>();
  // Aborted on stop so a slow provider delete does not hold up shutdown; the node is unlocked
  // and retried by whichever launcher runs next.
  private readonly abort = new AbortController();

  constructor(private readonly options: DeletedNodeWorkerOptions) {
    // One listener per cloud delete or resumed launch in flight: hundreds are normal.
    setMaxListeners(0, this.abort.signal);
    this.log = options.logger.child({ worker: 'deleted-node' });
    this.runner = new SerialRunner({
      name: 'deleted-node',
      intervalMs: options.intervalMs ?? 5000,
      pass: (timer) => this.pass(timer ? undefined : this.takeWoken()),
      logger: this.log,
      // Paused without a session (spec §4.1); the engine wakes it on reconnect.
      mayRun: () => options.zk.client.state === 'connected',
    });
  }

  /**
   * Runs a first pass now, then one every interval, and one as soon as the cache shows a node of
   * ours in a state to delete, or a request gone (its ready nodes go back to the pool).
   */
  start(): void {
    const { zk, providers } = this.options;
    this.unsubscribe = [
      // `in-use` is left to the periodic pass: Zuul holds those locked, and checking each lock on
      // every change would cost a read per in-use node per event. So is `building`: its launch
      // holds it locked throughout (a metastatic node waiting for a slot retried its delete ~20
      // times); only an abandoned launch's node is deletable, and the periodic pass finds it.
      zk.onNodeChange((id, current) => {
        if (current?.provider && providers.has(current.provider) && DELETABLE.has(current.state) && current.state !== 'in-use' && current.state !== 'building') this.wake(id);
      }),
      zk.onRequestChange((_id, current, previous) => {
        // A request gone: its ready nodes (if any) go back to the pool.
        if (!current && previous?.state === 'fulfilled') for (const id of previous.nodes) this.wake(id);
      }),
    ];
    this.runner.start();
  }

  /** Stops the timer, aborts a running delete and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.abort.abort();
    await this.runner.stop();
    await Promise.all([...this.deleting.values(), ...this.resuming.values()].map((d) => d.run));
    await Promise.all(this.hooks);
  }

  /** Cloud deletes in flight (tests). */
  get deletesInFlight(): number {
    return this.deleting.size;
  }

  /** Asks for a pass now: over `nodeId` only when given (events), else over every node. */
  wake(nodeId?: string): void {
    if (nodeId === undefined) this.wokenAll = true;
    else this.woken.add(nodeId);
    this.runner.wake();
  }

  private settle(id: string, outcome: 'locked' | void, only: ReadonlySet<string> | undefined): void {
    if (outcome === 'locked' && only) this.retrySoon(id);
    else this.retries.delete(id);
  }

  /**
   * A node named by an event was still locked: Zuul writes `used` and unlocks right after, and
   * the unlock changes no node data, so no event follows. Look again shortly, a bounded number of
   * times; after that the periodic pass covers it.
   */
  private retrySoon(id: string): void {
    const tries = (this.retries.get(id) ?? 0) + 1;
    if (tries > 20 || this.stopped) {
      this.retries.delete(id);
      return;
    }
    this.retries.set(id, tries);
    setTimeout(() => this.wake(id), 25 * tries).unref();
  }

  private takeWoken(): ReadonlySet<string> | undefined {
    if (this.wokenAll) {
      this.wokenAll = false;
      this.woken.clear();
      return undefined;
    }
    const ids = new Set(this.woken);
    this.woken.clear();
    return ids;
  }

  /** One pass over every node of our providers, or over `only`; exposed for tests. */
  async pass(only?: ReadonlySet<string>): Promise<void> {
    const { zk, providers } = this.options;
    if (only && only.size === 0) return;
    // Filtered before copying: a pass targeted at the few nodes an event named copies only those.
    const nodes = await zk.getNodes((n) => n.provider !== null && providers.has(n.provider) && (!only || only.has(n.id as string)), { providers: new Set(providers.keys()) });
    // Read after the nodes: an allocation seen above names a request created before this read,
    // so its absence here means it was deleted.
    const requestIds = new Set(await zk.getNodeRequestIds());
    // Nodes are independent: a few at a time, so a returned node does not wait for the round
    // trips of every node returned before it.
    await mapLimit(nodes, PARALLEL_DELETES, async (node) => {
      // Connection gone mid-pass: every further node would fail and log; the pass after the
      // reconnect covers them (spec §4.1).
      if (this.stopped || zk.client.state !== 'connected') return;
      // Its provider's deleter has it already, or it is being resumed.
      if (this.deleting.has(node.id as string) || this.resuming.has(node.id as string)) return;
      try {
        if (node.state === 'ready' && node.allocated_to && !requestIds.has(node.allocated_to)) {
          this.settle(node.id as string, await this.deallocate(node), only);
        } else if (this.deferForeignDeleting(node)) {
          return;
        } else if (DELETABLE.has(node.state)) {
          const provider = providers.get(node.provider as string) as Provider;
          // Left to another launcher of the provider for now (static beside a Python launcher).
          if (provider.mayDelete?.(node) === false) return;
          this.settle(node.id as string, await this.delete(node, provider, only !== undefined), only);
        }
      } catch (err) {
        this.log.error('deleted-node task failed', { node: node.id, err: (err as Error).message });
      }
    });
  }

  /**
   * A node somebody else marked `deleting` a moment ago waits a little: Nodepool's CLI `delete`
   * stores `deleting`, unlocks and then lists the node again, and a delete of ours between that
   * listing's two reads made it fail with a traceback after it had done its work (a Python
   * launcher deletes at its 5 s pass). Our own marks are deleted at once.
   */
  private deferForeignDeleting(node: Node): boolean {
    const { zk } = this.options;
    if (node.state !== 'deleting' || !zk.wroteNode || zk.wroteNode(node)) return false;
    const waitMs = Math.min(FOREIGN_DELETING_GRACE_MS, node.state_time * 1000 + FOREIGN_DELETING_GRACE_MS - Date.now());
    if (waitMs <= 0) return false;
    setTimeout(() => this.wake(node.id as string), waitMs + 10).unref();
    return true;
  }

  /** A ready node allocated to a vanished request goes back to the pool (LCH:909-936). */
  private async deallocate(node: Node): Promise<'locked' | void> {
    const { zk } = this.options;
    if (await zk.isNodeLocked(node.id as string)) return 'locked';
    if (!(await zk.lockNode(node, { blocking: false }).catch(() => undefined))) return 'locked';
    try {
      // Re-read by the lock: still ready, and its request still gone?
      if (node.state !== 'ready' || !node.allocated_to || (await zk.getNodeRequest(node.allocated_to))) return;
      this.log.info('de-allocating node of a vanished request', { node: node.id, request: node.allocated_to });
      node.allocated_to = null;
      await zk.storeNode(node);
    } finally {
      await zk.unlockNode(node).catch(() => undefined);
    }
  }

  /**
   * Hands a finished node to the provider's deleter under its lock (LCH:938-985). A node with no
   * instance to delete (static hosts, a launch that never got a cloud id, an instance that goes
   * with its record: {@link Provider.instanceDeletedWithRecord}) is deleted in one
   * transaction instead: `deleted`, lock dir and node together, which fails as a whole while
   * anybody holds or waits for its lock. That is what lock + re-check + delete would do, in one
   * round trip instead of eight. `fromEvent`: a busy node is retried soon by the caller; the
   * periodic pass checks the lock first (an in-use node is busy for a long time).
   */
  private async delete(node: Node, provider: Provider, fromEvent: boolean): Promise<'locked' | void> {
    const { zk } = this.options;
    const nothingToDelete = !provider.getDeleteStateMachine || node.external_id === null || node.external_id === undefined
      || provider.instanceDeletedWithRecord?.(node) === true;
    if (nothingToDelete && node.state !== 'deleted' && node.provider !== null) {
      if (!fromEvent && (await zk.isNodeLocked(node.id as string))) return 'locked';
      const outcome = await zk.deleteUnlockedNode(node);
      if (outcome === 'deleted') {
        this.deleted(node, provider);
        return;
      }
      if (outcome !== 'busy') return;
      // Busy right after an event: the holder (Zuul returning it) unlocks in a moment.
      if (fromEvent) return 'locked';
      // Nobody held the lock a moment ago, yet the transaction found children: something other
      // than a lock contender; the locked way below deletes recursively.
    }
    // The next pass takes it once a slot is free.
    if (this.providerBusy(provider)) return;
    if (await zk.isNodeLocked(node.id as string)) return 'locked';
    if (!(await zk.lockNode(node, { blocking: false }).catch(() => undefined))) return 'locked';
    if (!DELETABLE.has(node.state)) {
      await zk.unlockNode(node).catch(() => undefined);
      return;
    }
    if (node.state === 'deleted' || node.provider === null) {
      // Already deleted (or re-created by a racing lock's ensure_path): only the record is left.
      await zk.deleteNode(node);
      await zk.unlockNode(node).catch(() => undefined);
      return;
    }
    const id = node.id as string;
    // An abandoned launch we can go on with is resumed rather than deleted (launch-resume.ts).
    const resumed = node.state === 'building' && node.nodepool_ts_launch
      ? resumeLaunch(node, { zk, provider, logger: this.log, tracer: this.options.tracer, signal: this.abort.signal, pollInterval: this.options.launchPollMs })
      : undefined;
    if (resumed) {
      this.resuming.set(id, { object: provider, run: resumed.finally(() => this.resuming.delete(id)) });
      return;
    }
    const run = new NodeDeleter({ zk, provider, node, logger: this.log, tracer: this.options.tracer, signal: this.abort.signal })
      .run()
      .then(() => undefined)
      .finally(() => this.deleting.delete(id));
    this.deleting.set(id, { provider: provider.name, object: provider, run });
  }

  /**
   * Resolves once the cloud deletes and nodeDeleted hooks running now through this provider
   * object have ended (the old copy of an edited provider stops after them).
   */
  async settled(provider: Provider): Promise<void> {
    const runs = [...this.deleting.values(), ...this.resuming.values()].filter((d) => d.object === provider).map((d) => d.run);
    await Promise.allSettled([...runs, ...this.hooks]);
  }

  /** Whether the provider has as many cloud deletes running as it may. */
  private providerBusy(provider: Provider): boolean {
    let n = 0;
    for (const d of this.deleting.values()) if (d.provider === provider.name && ++n >= DELETES_IN_FLIGHT_PER_PROVIDER) return true;
    return false;
  }

  /** After a one-transaction delete: what NodeDeleter does after its own (log, span, hook). */
  private deleted(node: Node, provider: Provider): void {
    this.log.info('node deleted', { node: node.id, provider: provider.name, external_id: node.external_id });
    this.options.tracer?.startSpan('nodepool.delete', { attributes: { 'nodepool.node': node.id ?? '', 'nodepool.provider': provider.name, 'nodepool.delete.deleted': true } }).end();
    // Not awaited: the static provider's re-registration takes several round trips under its
    // own mutex and gathers the slots freed meanwhile into one round; holding this pass for it
    // would hold up the deletes of every node returned meanwhile. stop() waits for it.
    const hook = (async (): Promise<void> => {
      try {
        await provider.nodeDeleted?.(node);
      } catch (err) {
        this.log.warn('provider nodeDeleted hook failed', { node: node.id, err: (err as Error).message });
      }
    })();
    this.hooks.add(hook);
    void hook.finally(() => this.hooks.delete(hook));
  }
}
