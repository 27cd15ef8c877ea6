/**
 * Keeps the engine's gauges current (Nodepool's StatsWorker, LCH:1000-1030): a pass every 5 s,
 * and one soon after the ZooKeeper cache reports a node or request change or the session
 * changes state. It also stands in Nodepool's stats election (`/nodepool/elections/stats`, a
 * kazoo lock): only the holder sends the statsd node gauges, so several launchers (Python or
 * ours) do not report the same counts twice. Prometheus gauges are kept by every launcher.
 */
import type { EngineStats } from './engine-stats';
import { SerialRunner } from './serial-runner';
import type { Logger } from '../plugins/logger';
import type { NodepoolConfig } from '../plugins/nodepool-config';
import type { ZooKeeper, ZooKeeperLock } from '../plugins/zookeeper';
import type { Node } from '../zk/models/node';
import { STATS_ELECTION_PATH } from '../zk/nodepool-paths';

/** How to build a {@link StatsWorker}. */
export interface StatsWorkerOptions {
  zk: ZooKeeper;
  stats: EngineStats;
  config: () => NodepoolConfig;
  logger: Logger;
  /** Contender identifier in the election (`<hostname>-<pid>` like Nodepool). */
  identifier: string;
  /** Period, ms (default 5000). */
  intervalMs?: number;
  /** Delay between a change event and the pass it triggers, ms (default 1000): events come in bursts. */
  debounceMs?: number;
}

/** See the module comment. */
export class StatsWorker {
  private readonly runner: SerialRunner;
  private readonly unsubscribe: Array<() => void> = [];
  private election: ZooKeeperLock | undefined;
  private soon: NodeJS.Timeout | undefined;
  private readonly onSession = (): void => this.wakeSoon();
  /** The next pass reads stale nodes too (see {@link pass}). */
  private readAllNext = false;

  constructor(private readonly options: StatsWorkerOptions) {
    this.runner = new SerialRunner({
      name: 'stats worker',
      intervalMs: options.intervalMs ?? 5000,
      logger: options.logger,
      pass: (timer) => this.pass(timer),
    });
  }

  start(): void {
    const { zk } = this.options;
    this.unsubscribe.push(zk.onNodeChange(() => this.wakeSoon()), zk.onRequestChange(() => this.wakeSoon()));
    for (const event of ['connected', 'suspended', 'lost', 'reconnected'] as const) zk.client.on(event, this.onSession);
    this.unsubscribe.push(() => {
      for (const event of ['connected', 'suspended', 'lost', 'reconnected'] as const) zk.client.off(event, this.onSession);
    });
    this.runner.start();
  }

  /** Runs a pass now and waits for it (tests). */
  async refresh(): Promise<void> {
    this.readAllNext = true;
    this.runner.wake();
    await this.runner.idle();
  }

  async stop(): Promise<void> {
    clearTimeout(this.soon);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.runner.stop();
    if (this.election?.isAcquired) await this.election.release().catch(() => undefined);
    this.election = undefined;
  }

  private wakeSoon(): void {
    if (this.soon || this.runner.isStopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.runner.wake();
    }, this.options.debounceMs ?? 1000);
    this.soon.unref();
  }

  private async pass(timer: boolean): Promise<void> {
    const { zk, stats } = this.options;
    const zkState = zk.client.state;
    const statsLeader = stats.statsd !== null && zkState === 'connected' && (await this.leads());
    // Nodes and requests of other launchers whose changes the cache did not read are read on the
    // periodic pass only: a pass after each burst of events would read most of them every second.
    const stale = timer || this.readAllNext ? 'read' : 'keep';
    this.readAllNext = false;
    // Counting only reads: collect the cache's shared records through the filter rather than
    // have a copy made of every node on every pass (10 000 copies a second at scale).
    const nodes: Node[] = [];
    const [, requests] = await Promise.all([zk.getNodes((n) => (nodes.push(n), false), { stale }), zk.getNodeRequests({ stale })]);
    // Component reads go to ZooKeeper: only worth it when statsd gauges are sent.
    const pools = statsLeader ? await zk.getRegisteredPools() : [];
    stats.update({ nodes, requests, pools, config: this.options.config(), zkState, statsLeader });
  }

  /** Takes part in the election without waiting; true while we hold it. */
  private async leads(): Promise<boolean> {
    this.election ??= this.options.zk.createLock(STATS_ELECTION_PATH, this.options.identifier);
    if (this.election.isAcquired) return true;
    return this.election.acquire({ blocking: false }).catch((err: unknown) => {
      this.options.logger.debug('stats election failed', { err: (err as Error).message });
      return false;
    });
  }
}
