/**
 * The launcher engine (spec §4.1). Start creates and starts every configured provider with one
 * {@link PoolWorker} per pool, the {@link DeletedNodeWorker} (5 s) and the {@link CleanupWorker}
 * (60 s). A main loop (1 s, Nodepool's `watermark_sleep`) reloads the configuration when its files
 * changed, applies it (providers whose section changed are restarted, unchanged ones keep
 * running) and runs min-ready. Stop winds everything down in reverse: no new work first, then the
 * requests in hand are handed back, then providers stop.
 */
import type { Container } from 'inversify';
import { CleanupWorker } from './cleanup-worker';
import { MinReady } from './cleanup/min-ready';
import { resetLostRequests } from './cleanup/lost-requests';
import { DeletedNodeWorker } from './deleted-node-worker';
import { EngineStats } from './engine-stats';
import { LauncherFleetImpl } from './launcher-fleet-impl';
import { PoolWorker } from './pool-worker';
import { providerSignature } from './provider-signature';
import { ProviderRuntime } from './provider-runtime';
import { SerialRunner } from './serial-runner';
import { StatsWorker } from './stats-worker';
import type { DriverRegistry } from '../kernel/plugins/driver-registry';
import { DriverRegistryToken } from '../kernel/kernel';
import { VERSION } from '../kernel/services/launcher-component';
import { StatsdClient } from '../kernel/services/statsd-client';
import type { ProviderContext } from '../plugins/driver';
import { LauncherSettings } from '../plugins/launcher-settings';
import type { LifecycleContribution } from '../plugins/lifecycle';
import { Logger } from '../plugins/logger';
import { Metrics } from '../plugins/metrics';
import { NodepoolConfigSource, type NodepoolConfig, type ProviderConfig } from '../plugins/nodepool-config';
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
}

/** A running provider with its shared state and pool workers. */
interface RunningProvider {
  config: ProviderConfig;
  /** {@link providerSignature} of the configuration it runs. */
  signature: string;
  runtime: ProviderRuntime;
  workers: PoolWorker[];
}


/** See the module comment. */
export class LauncherEngine implements LifecycleContribution {
  readonly name = 'launcher-engine';
  private readonly running = new Map<string, RunningProvider>();
  /** Provider objects by name: the view the deleted-node and cleanup workers read. */
  private readonly providers = new Map<string, ProviderRuntime['provider']>();
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
  private fleetOff: (() => void) | undefined;
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
    return [...this.running.values()].flatMap((r) => r.workers);
  }

  /** The running provider runtimes by name. */
  get runtimes(): ReadonlyMap<string, ProviderRuntime> {
    return new Map([...this.running].map(([name, r]) => [name, r.runtime]));
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
    this.fleet = new LauncherFleetImpl({ client: zk.client, logger, startingGraceMs: this.options.foreignStartingGraceMs, settleMs: this.options.foreignSettleMs });
    await this.fleet.start();
    this.context = { zk, logger, tracer: c.get<Tracer>(Tracer), metrics: c.get<Metrics>(Metrics), config: source.current(), fleet: this.fleet };
    const settings = c.get<LauncherSettings>(LauncherSettings);
    const statsd = settings.statsd?.host
      ? new StatsdClient({ host: settings.statsd.host, port: settings.statsd.port, prefix: settings.statsd.prefix })
      : null;
    this.stats = new EngineStats(this.context.metrics, statsd);
    // Everything below reads nodes and requests from the cache and wakes on its events.
    await zk.startCache();
    await this.apply(source.current());
    this.deletedNodeWorker = new DeletedNodeWorker({
      zk, providers: this.providers, logger: this.context.logger, tracer: this.context.tracer, intervalMs: this.options.deletedNodeIntervalMs,
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
        if (config !== this.applied) await this.apply(config);
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
    this.handover = new SerialRunner({
      name: 'lost-request handover',
      intervalMs: this.options.handoverCheckMs ?? 5000,
      logger: this.log,
      mayRun: () => zk.client.state === 'connected',
      pass: async (timer) => {
        if (timer && !(await anyPendingUnlocked(zk))) return;
        const { reset } = await resetLostRequests({ zk, logger: this.log as Logger, nodeLockTimeout: 10 });
        if (reset.length > 0) this.log?.info(`took over ${reset.length} request(s) nobody was serving any more`, { requests: reset });
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
    await this.handover?.stop();
    this.handover = undefined;
    await this.mainLoop?.stop();
    this.mainLoop = undefined;
    await this.cleanupWorker?.stop();
    this.cleanupWorker = undefined;
    const names = [...this.running.keys()];
    await Promise.all(names.map((name) => this.stopProvider(name, false)));
    await this.deletedNodeWorker?.stop();
    this.deletedNodeWorker = undefined;
    await Promise.all(names.map((name) => this.stopProvider(name, true)));
    await this.statsWorker?.stop();
    this.statsWorker = undefined;
    this.fleet?.stop();
    this.fleet = undefined;
    this.stats?.statsd?.close();
  }

  /**
   * Brings the running providers in line with `config`: removed or changed ones stop (their
   * requests in hand go back to `requested`), new or changed ones start. Unchanged providers
   * keep running, with their launches in flight.
   */
  private async apply(config: NodepoolConfig): Promise<void> {
    this.applied = config;
    const log = this.log as Logger;
    for (const [name, running] of [...this.running]) {
      const next = config.providers.get(name);
      if (next && providerSignature(next, config) === running.signature) continue;
      log.info(next ? `provider ${name} changed: restarting it` : `provider ${name} removed: stopping it`);
      await this.stopProvider(name, false);
      await this.stopProvider(name, true);
    }
    for (const providerConfig of config.providers.values()) {
      if (this.running.has(providerConfig.name)) continue;
      await this.startProvider(providerConfig, config);
    }
  }

  private async startProvider(providerConfig: ProviderConfig, config: NodepoolConfig): Promise<void> {
    const c = this.container;
    const log = this.log as Logger;
    const context = { ...(this.context as ProviderContext), config };
    const driver = c.get<DriverRegistry>(DriverRegistryToken).get(providerConfig.driver);
    if (!driver) {
      log.error(`no driver "${providerConfig.driver}" for provider ${providerConfig.name}`);
      return;
    }
    const settings = c.get<LauncherSettings>(LauncherSettings);
    // One broken provider (bad cloud credentials, ...) must not keep the others from serving.
    try {
      const provider = driver.createProvider(providerConfig, context);
      await provider.start();
      const runtime = new ProviderRuntime(provider, context.logger, this.options.quotaCacheMs);
      const entry: RunningProvider = { config: providerConfig, signature: providerSignature(providerConfig, config), runtime, workers: [] };
      this.running.set(provider.name, entry);
      this.providers.set(provider.name, provider);
      for (const pool of providerConfig.pools) {
        const worker = new PoolWorker({
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
        });
        await worker.start();
        entry.workers.push(worker);
      }
    } catch (err) {
      log.error(`provider ${providerConfig.name} did not start: ${(err as Error).message}`, { provider: providerConfig.name });
    }
  }

  /**
   * Stops a provider in two phases so a whole-engine stop can keep the deleted-node worker
   * alive between them: first its launches are cancelled and its pool workers hand back their
   * requests; then the provider object itself stops and is forgotten.
   */
  private async stopProvider(name: string, final: boolean): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) return;
    if (!final) {
      entry.runtime.abort.abort();
      const workers = entry.workers;
      entry.workers = [];
      await Promise.all(workers.map((w) => w.stop()));
      return;
    }
    this.running.delete(name);
    this.providers.delete(name);
    await entry.runtime.provider.stop().catch((err: unknown) => this.log?.warn(`provider ${name} stop failed`, { err: (err as Error).message }));
  }
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
