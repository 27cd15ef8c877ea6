/**
 * The launcher engine (spec §4.1). Start runs the {@link DeletedNodeWorker} (5 s) and the
 * {@link CleanupWorker} (60 s) and has the {@link ProviderSupervisor} start every configured
 * provider with one {@link PoolWorker} per pool, each on its own under a time limit (a provider
 * that hangs or fails is retried and holds up nothing else). A main loop (1 s, Nodepool's
 * `watermark_sleep`) reloads the configuration when its files changed, applies it (edited
 * providers start anew beside the old copy, which finishes its launches; unchanged ones keep
 * running) and runs min-ready. Stop winds everything down in reverse: no new work first, then the
 * requests in hand are handed back, then providers stop.
 */
import type { Container } from 'inversify';
import { CleanupWorker } from './cleanup-worker';
import { MinReady } from './cleanup/min-ready';
import { resetLostRequests } from './cleanup/lost-requests';
import { resumeJudge } from './launch-resume';
import { DeletedNodeWorker } from './deleted-node-worker';
import { EngineStats } from './engine-stats';
import { LauncherFleetImpl } from './launcher-fleet-impl';
import { DEFAULT_RENDEZVOUS_DELAY_MS, requestReader } from './rendezvous';
import { PoolWorker } from './pool-worker';
import type { ProviderRuntime } from './provider-runtime';
import { ProviderSupervisor } from './provider-supervisor';
import { SerialRunner } from './serial-runner';
import { StatsWorker } from './stats-worker';
import type { DriverRegistry } from '../kernel/plugins/driver-registry';
import { DriverRegistryToken } from '../kernel/kernel';
import { LauncherComponentToken, VERSION, type LauncherComponent } from '../kernel/services/launcher-component';
import { StatsdClient } from '../kernel/services/statsd-client';
import type { Provider, ProviderContext } from '../plugins/driver';
import { LauncherSettings } from '../plugins/launcher-settings';
import type { LifecycleContribution } from '../plugins/lifecycle';
import { Logger } from '../plugins/logger';
import { Metrics } from '../plugins/metrics';
import { NodepoolConfigSource, type NodepoolConfig, type ProviderConfig } from '../plugins/nodepool-config';
import { PROVIDER_STATE_NAMES, type ProviderState } from '../plugins/provider-state';
import { Tracer } from '../plugins/tracer';
import { ZooKeeper } from '../plugins/zookeeper';
import { requestLockPath } from '../zk/nodepool-paths';

/** Engine timings (tests shorten them) and hooks. */
export interface LauncherEngineOptions {
  /** Pool workers' fallback poll, ms (default 5000; new requests are seen through a watch). */
  poolPollIntervalMs?: number;
  /** Deleted-node worker period, ms (default 5000, as Nodepool). */
  deletedNodeIntervalMs?: number;
  /** Cleanup worker period, ms (default 60000, as Nodepool). */
  cleanupIntervalMs?: number;
  /** Main loop period (config reload, min-ready), ms (default 1000, as Nodepool). */
  mainLoopIntervalMs?: number;
  /** Pause between create-machine steps, ms (default 1000). */
  launchPollMs?: number;
  /** Lifetime of cached cloud limits, ms (default 300000). */
  quotaCacheMs?: number;
  /** Stats worker period, ms (default 5000, as Nodepool). */
  statsIntervalMs?: number;
  /**
   * How long a foreign launcher that registered no pool yet counts as serving every provider, ms
   * (default 120000; see LauncherFleetImpl).
   */
  foreignStartingGraceMs?: number;
  /** How long a foreign launcher still counts as starting after its last new pool record, ms (default 10000). */
  foreignSettleMs?: number;
  /** How often `pending` requests that nobody holds locked are looked for, ms (default 5000). */
  handoverCheckMs?: number;
  /** Called at the top of every main loop pass, to reload the config when its files changed. */
  reloadConfig?: () => void;
  /** Time limit of a provider's `start()`, ms (default 120000). */
  providerStartTimeoutMs?: number;
  /** Time limit of a provider's `stop()`, ms (default 30000). */
  providerStopTimeoutMs?: number;
  /** First retry delay after a failed provider start, ms (default 5000; doubles up to 5 min). */
  providerRetryMs?: number;
  /**
   * How long the engine's start waits for the first provider starts, ms (default 30000): past
   * it the launcher comes up anyway and the slow providers join when started.
   */
  providerStartWaitMs?: number;
  /**
   * How long a pool leaves a request to the nodepool-ts pool its rendezvous hash prefers before
   * taking it anyway, ms (default 1500; 0 turns the split off: every pool races, as Nodepool's).
   */
  rendezvousDelayMs?: number;
  /**
   * Whether the cache reads every state change of nodes of providers this launcher does not run,
   * and of requests its pools leave to other launchers (default false: it marks them stale and
   * reads them when asked, see ZooKeeper.followProviders and followRequests).
   */
  readAllChanges?: boolean;
}

/** See the module comment. */
export class LauncherEngine implements LifecycleContribution {
  readonly name = 'launcher-engine';
  private supervisor: ProviderSupervisor | undefined;
  /** Provider objects by name: the view the deleted-node and cleanup workers read. */
  private providers: ReadonlyMap<string, Provider> = new Map();
  private deletedNodeWorker: DeletedNodeWorker | undefined;
  private cleanupWorker: CleanupWorker | undefined;
  private mainLoop: SerialRunner | undefined;
  private minReady: MinReady | undefined;
  private applied: NodepoolConfig | undefined;
  private context: ProviderContext | undefined;
  private log: Logger | undefined;
  private stats: EngineStats | undefined;
  private statsWorker: StatsWorker | undefined;
  private zk: ZooKeeper | undefined;
  private fleet: LauncherFleetImpl | undefined;
  /** The providers whose node changes we read as they happen (see ZooKeeper.followProviders). */
  private followed: ((provider: string) => boolean) | undefined;
  private fleetOff: (() => void) | undefined;
  private badRecordsOff: (() => void) | undefined;
  /** Resets the requests a launcher that just vanished had locked (see {@link start}). */
  private handover: SerialRunner | undefined;
  // Workers skip their passes while the session is away (spec §4.1); this resumes them at once.
  private readonly onSessionBack = (): void => {
    this.deletedNodeWorker?.wake();
    this.mainLoop?.wake();
  };

  constructor(private readonly container: Container, private readonly options: LauncherEngineOptions = {}) {}

  /** The running pool workers (read-only view for tests and the web layer). */
  get pools(): PoolWorker[] {
    return this.supervisor?.pools ?? [];
  }

  /** The running provider runtimes by name. */
  get runtimes(): ReadonlyMap<string, ProviderRuntime> {
    return this.supervisor?.runtimes ?? new Map();
  }

  /**
   * Where each configured provider stands (starting, running, failed with its error and next
   * attempt, stopping, draining), by name. What the web, `/metrics` and the component record show.
   */
  providerStates(): ProviderState[] {
    return this.supervisor?.states() ?? [];
  }

  /** Why the launcher serves nothing now (`/ready` says it with 503), or undefined while some provider runs. */
  notReadyReason(): string | undefined {
    const states = this.providerStates();
    if (states.some((p) => p.state === 'running')) return undefined;
    if (!this.supervisor) return 'launcher engine not started';
    if (states.length === 0) return 'no provider configured';
    return `no provider running: ${states.map((p) => `${p.name} ${p.state}${p.error ? ` (${p.error})` : ''}`).join('; ')}`;
  }

  /** The stats worker (tests ask it for a fresh count). */
  get statistics(): StatsWorker | undefined {
    return this.statsWorker;
  }

  /** The cleanup worker (tests run passes directly). */
  get cleanup(): CleanupWorker | undefined {
    return this.cleanupWorker;
  }

  async start(): Promise<void> {
    const c = this.container;
    this.log = c.get<Logger>(Logger).child({ component: 'launcher-engine' });
    const source = c.get<NodepoolConfigSource>(NodepoolConfigSource);
    const zk = c.get<ZooKeeper>(ZooKeeper);
    this.zk = zk;
    const logger = c.get<Logger>(Logger);
    // Loaded before any provider starts: a static provider must know whether a launcher that
    // ignores our registration lock serves it before it registers a single slot.
    const component = c.isBound(LauncherComponentToken) ? c.get<LauncherComponent>(LauncherComponentToken) : undefined;
    this.fleet = new LauncherFleetImpl({
      client: zk.client, logger, startingGraceMs: this.options.foreignStartingGraceMs, settleMs: this.options.foreignSettleMs,
      ownLauncher: () => component?.path?.slice(component.path.lastIndexOf('/') + 1),
      ownPool: (id) => this.pools.some((w) => w.id === id),
    });
    await this.fleet.start();
    this.context = { zk, logger, tracer: c.get<Tracer>(Tracer), metrics: c.get<Metrics>(Metrics), config: source.current(), fleet: this.fleet };
    const settings = c.get<LauncherSettings>(LauncherSettings);
    const statsd = settings.statsd?.host
      ? new StatsdClient({ host: settings.statsd.host, port: settings.statsd.port, prefix: settings.statsd.prefix })
      : null;
    this.stats = new EngineStats(this.context.metrics, statsd);
    this.badRecordsOff = zk.onBadRecord?.((kind) => this.stats?.badRecord(kind));
    // Another launcher's nodes change state several times per request (allocated, in-use, used,
    // deleted): reading each change of each on every launcher made reads grow with the square of
    // the launchers (issue 17). Our workers want only our providers' nodes as they change; the
    // rest is read when asked (gauges, quota, listings).
    if (!this.options.readAllChanges) {
      this.followed = (name) => source.current().providers.has(name) || this.providers.has(name);
      zk.followProviders?.(this.followed);
      // Likewise a request every pool of ours leaves to another launcher's turn: its fulfilment
      // is not read (a pool reads it before acting on it; see PoolWorker.leavesToOthers).
      zk.followRequests?.((request, registered) => !this.pools.every((w) => w.leavesToOthers(request, registered)));
      // A new request is read only by the launcher of its reader pool, while only nodepool-ts
      // launchers run; the reader hands over what its pool does not take (PoolWorker).
      const delayMs = this.options.rendezvousDelayMs ?? DEFAULT_RENDEZVOUS_DELAY_MS;
      if (delayMs > 0) {
        zk.followRequestCreates?.(
          (id, registered) => {
            if (!this.fleet || this.fleet.hasForeign()) return true;
            const reader = requestReader(id, registered);
            return !reader || this.pools.some((w) => w.id === reader.id);
          },
          { readAfterMs: delayMs },
        );
      }
      // Another launcher's new node is read only while it could be of a provider we run.
      zk.followNodeCreates?.(() => !this.fleet || !this.followed || this.fleet.othersMayCreateNodesOf(this.followed));
    }
    // Everything below reads nodes and requests from the cache and wakes on its events.
    await zk.startCache();
    this.supervisor = this.createSupervisor();
    this.providers = this.supervisor.providers;
    // The workers run before any provider started: a provider that hangs holds up none of them.
    this.deletedNodeWorker = new DeletedNodeWorker({
      zk, providers: this.providers, logger: this.context.logger, tracer: this.context.tracer, intervalMs: this.options.deletedNodeIntervalMs,
      launchPollMs: this.options.launchPollMs,
    });
    this.deletedNodeWorker.start();
    this.cleanupWorker = new CleanupWorker({
      zk, logger: this.context.logger, tracer: this.context.tracer, onLeakDeleted: (p, type) => this.stats?.leakDeleted(p, type), providers: this.providers, config: () => source.current(), intervalMs: this.options.cleanupIntervalMs,
    });
    this.cleanupWorker.start();
    this.statsWorker = new StatsWorker({
      zk, stats: this.stats, config: () => source.current(), logger: this.log, identifier: `${settings.hostname}-${process.pid}`, intervalMs: this.options.statsIntervalMs,
    });
    this.statsWorker.start();
    // The first starts get a moment, so a launcher whose providers start quickly comes up with
    // them; one that hangs or is slow joins when started (its state says so meanwhile).
    await settledWithin(this.apply(source.current()), this.options.providerStartWaitMs ?? 30_000);
    // Like Nodepool's labelImageIsAvailable: a label none of our running pools can serve now
    // (its image not uploaded yet, ...) gets no min-ready request, instead of one created,
    // declined, failed and created again every pass.
    this.minReady = new MinReady({
      zk,
      logger: this.context.logger,
      isLabelAvailable: (label) => [...this.providers.values()].some((p) => p.config.pools.some((pool) => pool.labels.includes(label) && (p.labelReady?.(label, pool) ?? true))),
    });
    this.mainLoop = new SerialRunner({
      name: 'main loop',
      intervalMs: this.options.mainLoopIntervalMs ?? 1000,
      logger: this.log,
      mayRun: () => zk.client.state === 'connected',
      pass: async () => {
        this.options.reloadConfig?.();
        const config = source.current();
        // Not awaited: a provider's start runs on its own (see ProviderSupervisor).
        if (config !== this.applied) void this.apply(config);
        await this.minReady?.run(config);
      },
    });
    this.mainLoop.start();
    // Hand-over: a launcher's session ended (crash, SIGTERM of a Python launcher = os._exit), so
    // its component records and its request locks vanished in one server transaction. Its
    // `pending` requests are reset now instead of at the next 60 s cleanup pass, and our workers
    // look again (a static provider takes back slot registration, metastatic resumes).
    // Every few seconds it also looks for `pending` requests nobody holds: a Python static pool
    // that accepted a request and found no free node leaves it so (DRV:537-547) until some
    // launcher's 60 s cleanup pass; that was the longest wait of a mixed fleet. One read of
    // the lock dir per pending request; the reset itself only when one is free.
    const mayResume = resumeJudge(this.providers, () => source.current().providers);
    this.handover = new SerialRunner({
      name: 'lost-request handover',
      intervalMs: this.options.handoverCheckMs ?? 5000,
      logger: this.log,
      mayRun: () => zk.client.state === 'connected',
      pass: async (timer) => {
        if (timer && !(await anyPendingUnlocked(zk))) return;
        const { reset } = await resetLostRequests({ zk, logger: this.log as Logger, nodeLockTimeout: 10, providers: this.providers, mayResume });
        if (reset.length > 0) this.log?.info(`took over ${reset.length} request(s) nobody was serving any more`, { requests: reset });
        // Woken by a launcher's departure: its abandoned `building` nodes (the deleted-node worker
        // leaves those to its 5 s pass) still hold their slots (metastatic) and quota; reap or
        // resume them now. After the reset, which locks those nodes to de-allocate them.
        if (!timer) this.deletedNodeWorker?.wake();
      },
    });
    // Pool records change often (`paused` flips at quota): the workers look again only when
    // the set of foreign launchers and their providers changed.
    let foreign = JSON.stringify(this.fleet.foreignLaunchers());
    this.fleetOff = this.fleet.onChange((removed) => {
      if (removed) this.handover?.wake();
      const now = JSON.stringify(this.fleet?.foreignLaunchers() ?? []);
      if (now === foreign) return;
      foreign = now;
      this.deletedNodeWorker?.wake();
      for (const worker of this.pools) worker.wake();
    });
    this.handover.start();
    zk.client.on('connected', this.onSessionBack).on('reconnected', this.onSessionBack);
  }

  /** Safe after a failed or partial start. */
  async stop(): Promise<void> {
    this.zk?.client.off('connected', this.onSessionBack).off('reconnected', this.onSessionBack);
    this.fleetOff?.();
    this.badRecordsOff?.();
    await this.handover?.stop();
    this.handover = undefined;
    await this.mainLoop?.stop();
    this.mainLoop = undefined;
    await this.cleanupWorker?.stop();
    this.cleanupWorker = undefined;
    // Pool workers hand back their requests first; the deleted-node worker still has the
    // provider objects until it stopped, then they stop.
    await this.supervisor?.halt();
    await this.deletedNodeWorker?.stop();
    this.deletedNodeWorker = undefined;
    await this.supervisor?.stopAll();
    await this.statsWorker?.stop();
    this.statsWorker = undefined;
    this.fleet?.stop();
    this.fleet = undefined;
    this.stats?.statsd?.close();
    this.zk?.followProviders?.(undefined);
    this.zk?.followRequests?.(undefined);
    this.zk?.followRequestCreates?.(undefined);
    this.zk?.followNodeCreates?.(undefined);
  }

  /** Brings the providers in line with `config` (see {@link ProviderSupervisor.apply}); resolves when its starts settled. */
  private apply(config: NodepoolConfig): Promise<void> {
    this.applied = config;
    // The followed providers may change: nodes left unread as another provider's count again.
    if (this.followed) this.zk?.followProviders?.(this.followed);
    return (this.supervisor as ProviderSupervisor).apply(config);
  }

  private createSupervisor(): ProviderSupervisor {
    const c = this.container;
    const settings = c.get<LauncherSettings>(LauncherSettings);
    const context = this.context as ProviderContext;
    const stateGauge = context.metrics.gauge('nodepool_provider_state', 'Providers of this launcher by state (1 = the state it is in)', ['provider', 'driver', 'state']);
    const component = c.isBound(LauncherComponentToken) ? c.get<LauncherComponent>(LauncherComponentToken) : undefined;
    const publish = (): void => {
      const states = this.providerStates();
      stateGauge.reset();
      for (const p of states) {
        for (const state of PROVIDER_STATE_NAMES) stateGauge.set({ provider: p.name, driver: p.driver, state }, p.state === state ? 1 : 0);
      }
      component?.setProviders(states);
    };
    return new ProviderSupervisor({
      driver: (name) => c.get<DriverRegistry>(DriverRegistryToken).get(name),
      context: (config) => ({ ...context, config }),
      logger: this.log as Logger,
      deletesSettled: (provider) => this.deletedNodeWorker?.settled(provider) ?? Promise.resolve(),
      onChange: publish,
      announced: () => component?.written() ?? Promise.resolve(),
      startTimeoutMs: this.options.providerStartTimeoutMs,
      stopTimeoutMs: this.options.providerStopTimeoutMs,
      retryMs: this.options.providerRetryMs,
      quotaCacheMs: this.options.quotaCacheMs,
      createWorkers: (runtime: ProviderRuntime, providerConfig: ProviderConfig) => providerConfig.pools.map((pool) => new PoolWorker({
        zk: context.zk,
        runtime,
        pool,
        hostname: settings.hostname,
        fqdn: settings.hostname,
        version: `${VERSION} nodepool-ts`,
        logger: context.logger,
        tracer: context.tracer,
        stats: this.stats,
        tenantLimits: () => c.get<NodepoolConfigSource>(NodepoolConfigSource).current().tenantLimits,
        pollIntervalMs: this.options.poolPollIntervalMs,
        launchPollMs: this.options.launchPollMs,
        rendezvousDelayMs: this.options.rendezvousDelayMs,
      })),
    });
  }
}

/** Waits for `work` at most `ms`. */
async function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Whether some `pending` request has no lock contender (from the cache; one read per request). */
async function anyPendingUnlocked(zk: ZooKeeper): Promise<boolean> {
  for (const request of await zk.getNodeRequests()) {
    if (request.state !== 'pending' || !request.id) continue;
    const contenders = await zk.client.getChildren(requestLockPath(request.id)).catch(() => [] as string[]);
    if (contenders.length === 0) return true;
  }
  return false;
}
