/**
 * The CleanupWorker (spec §4.6, every 60 s): stale request locks, leaked cloud resources, lost
 * requests, max-ready-age, hold expiry, empty node znodes and each provider's own periodic hook
 * (the static provider's registration sync). Each task is isolated: one failing does not stop
 * the others.
 */
import { errorText } from './cleanup/context';
import { deleteExpiredHeldNodes } from './cleanup/hold-expiry';
import { resetLostRequests } from './cleanup/lost-requests';
import { deleteOverageReadyNodes } from './cleanup/max-ready-age';
import { removeEmptyNodes } from './cleanup/empty-nodes';
import { deleteOrphanedInitNodes } from './cleanup/orphan-init-nodes';
import { failUnreadableRequests } from './cleanup/unreadable-requests';
import { removeStaleRequestLocks } from './cleanup/stale-request-locks';
import { resumeJudge } from './launch-resume';
import { LeakDetector } from './leak-detector';
import { SerialRunner } from './serial-runner';
import type { Provider } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { NodepoolConfig } from '../plugins/nodepool-config';
import type { Tracer } from '../plugins/tracer';
import type { ZooKeeper } from '../plugins/zookeeper';
import type { Node } from '../zk/models/node';

/** How to build a {@link CleanupWorker}. */
export interface CleanupWorkerOptions {
  zk: ZooKeeper;
  logger: Logger;
  /** One `nodepool.cleanup` span per pass, a child span per task. */
  tracer?: Tracer;
  /** Told of each leaked instance or resource deleted (`type` as in `instance`), for statsd. */
  onLeakDeleted?: (provider: string, type: string) => void;
  /** Our running providers by name (a live view: the engine updates it on reload). */
  providers: ReadonlyMap<string, Provider>;
  /** The configuration in force. */
  config: () => NodepoolConfig;
  /** Period, ms (default 60000). */
  intervalMs?: number;
  /** Clock in float seconds (tests age records). */
  now?: () => number;
}

/** See the module comment. */
export class CleanupWorker {
  private readonly log: Logger;
  private readonly runner: SerialRunner;
  // Keyed by provider object: a restarted provider starts its two-pass leak memory afresh.
  private readonly leaks = new WeakMap<Provider, LeakDetector>();

  /** Launches of dead launchers resumed here: their requests wait (launch-resume.ts). */
  private readonly mayResume: (node: Node) => boolean;

  constructor(private readonly options: CleanupWorkerOptions) {
    this.mayResume = resumeJudge(options.providers, () => options.config().providers);
    this.log = options.logger.child({ worker: 'cleanup' });
    this.runner = new SerialRunner({
      name: 'cleanup', intervalMs: options.intervalMs ?? 60_000, pass: () => this.pass(), logger: this.log,
      // Paused without a session (spec §4.1); the next period after reconnecting runs it.
      mayRun: () => options.zk.client.state === 'connected',
    });
  }

  /** First pass now, then every interval. */
  start(): void {
    this.runner.start();
  }

  /** Waits for the pass in flight. */
  async stop(): Promise<void> {
    await this.runner.stop();
  }

  /** Asks for a pass now. */
  wake(): void {
    this.runner.wake();
  }

  /** Resolves when no pass is in flight. */
  async idle(): Promise<void> {
    await this.runner.idle();
  }

  /** One pass of every task, in Nodepool's order. */
  async pass(): Promise<void> {
    const tracer = this.options.tracer;
    if (!tracer) return this.tasks();
    await tracer.startActiveSpan('nodepool.cleanup', async (span) => {
      try {
        await this.tasks();
      } finally {
        span.end();
      }
    });
  }

  private async tasks(): Promise<void> {
    const { zk, providers, now } = this.options;
    const config = this.options.config();
    const ctx = { zk, logger: this.log, now };
    // Only providers that are running: a section that failed to start has no provider object.
    const ours = { ...config, providers: new Map([...config.providers].filter(([name]) => providers.has(name))) };
    await this.task('stale request locks', () => removeStaleRequestLocks(ctx));
    for (const provider of providers.values()) {
      await this.task(`leaked resources of ${provider.name}`, async () => {
        const { deleted } = await this.leakDetector(provider).pass();
        for (const key of deleted) this.options.onLeakDeleted?.(provider.name, key.slice(0, key.indexOf(':')));
      });
    }
    await this.task('lost requests', () => resetLostRequests({ ...ctx, nodeLockTimeout: 10, providers, mayResume: this.mayResume }));
    await this.task('unreadable requests', () => failUnreadableRequests(ctx));
    await this.task('orphaned init nodes', () => deleteOrphanedInitNodes({ ...ctx, providers }));
    await this.task('max-ready-age', () => deleteOverageReadyNodes({ ...ctx, config: ours }));
    await this.task('hold expiry', () => deleteExpiredHeldNodes({ ...ctx, config: ours }));
    await this.task('empty node znodes', () => removeEmptyNodes(ctx));
    for (const provider of providers.values()) {
      if (provider.cleanup) await this.task(`cleanup of ${provider.name}`, () => provider.cleanup!());
    }
  }

  private leakDetector(provider: Provider): LeakDetector {
    let detector = this.leaks.get(provider);
    if (!detector) {
      detector = new LeakDetector(provider, this.options.zk, this.log);
      this.leaks.set(provider, detector);
    }
    return detector;
  }

  private async task(what: string, fn: () => Promise<unknown>): Promise<void> {
    // Connection gone mid-pass: the remaining tasks would only fail item by item; the next pass
    // after the reconnect does them (spec §4.1).
    if (this.options.zk.client.state !== 'connected') return;
    const span = this.options.tracer?.startSpan('nodepool.cleanup.task', { attributes: { 'nodepool.cleanup.task': what } });
    try {
      await fn();
    } catch (err) {
      span?.recordException(err as Error);
      this.log.error(`cleanup task ${what} failed: ${errorText(err)}`);
    } finally {
      span?.end();
    }
  }
}
