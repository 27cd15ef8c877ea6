/**
 * The launcher engine (spec §4.1): on start it creates and starts every configured provider,
 * then one {@link PoolWorker} per provider-pool and the {@link DeletedNodeWorker}; on stop it
 * stops them in reverse (pool workers first, so no new work starts while providers wind down).
 */
import type { Container } from 'inversify';
import { DeletedNodeWorker } from './deleted-node-worker';
import { PoolWorker } from './pool-worker';
import type { DriverRegistry } from '../kernel/plugins/driver-registry';
import { DriverRegistryToken } from '../kernel/kernel';
import { VERSION } from '../kernel/services/launcher-component';
import type { Provider, ProviderContext } from '../plugins/driver';
import { LauncherSettings } from '../plugins/launcher-settings';
import type { LifecycleContribution } from '../plugins/lifecycle';
import { Logger } from '../plugins/logger';
import { Metrics } from '../plugins/metrics';
import { NodepoolConfigSource } from '../plugins/nodepool-config';
import { Tracer } from '../plugins/tracer';
import { ZooKeeper } from '../plugins/zookeeper';

/** Engine timings (tests shorten them). */
export interface LauncherEngineOptions {
  /** Pool workers' fallback poll, ms (default 5000; new requests are seen through a watch). */
  poolPollIntervalMs?: number;
  /** Deleted-node worker period, ms (default 5000, as Nodepool). */
  deletedNodeIntervalMs?: number;
}

/** See the module comment. Config reloads are not applied yet: the engine serves the start config. */
export class LauncherEngine implements LifecycleContribution {
  readonly name = 'launcher-engine';
  private readonly providers = new Map<string, Provider>();
  private poolWorkers: PoolWorker[] = [];
  private deletedNodeWorker: DeletedNodeWorker | undefined;

  constructor(private readonly container: Container, private readonly options: LauncherEngineOptions = {}) {}

  /** The running pool workers (read-only view for tests and the web layer). */
  get pools(): readonly PoolWorker[] {
    return this.poolWorkers;
  }

  async start(): Promise<void> {
    const c = this.container;
    const logger = c.get<Logger>(Logger).child({ component: 'launcher-engine' });
    const settings = c.get<LauncherSettings>(LauncherSettings);
    const drivers = c.get<DriverRegistry>(DriverRegistryToken);
    const config = c.get<NodepoolConfigSource>(NodepoolConfigSource).current();
    const context: ProviderContext = {
      zk: c.get<ZooKeeper>(ZooKeeper),
      logger: c.get<Logger>(Logger),
      tracer: c.get<Tracer>(Tracer),
      metrics: c.get<Metrics>(Metrics),
      config,
    };
    for (const providerConfig of config.providers.values()) {
      const driver = drivers.get(providerConfig.driver);
      if (!driver) {
        logger.error(`no driver "${providerConfig.driver}" for provider ${providerConfig.name}`);
        continue;
      }
      // One broken provider (bad cloud credentials, ...) must not keep the others from serving.
      try {
        const provider = driver.createProvider(providerConfig, context);
        await provider.start();
        this.providers.set(provider.name, provider);
      } catch (err) {
        logger.error(`provider ${providerConfig.name} did not start: ${(err as Error).message}`, { provider: providerConfig.name });
      }
    }
    for (const provider of this.providers.values()) {
      // Launching pools are not served by this engine slice; registering them would make other
      // launchers defer requests to a pool that never answers.
      if (provider.launches) {
        logger.warn(`provider ${provider.name} launches nodes, which this engine does not do yet; its pools are not served`);
        continue;
      }
      for (const pool of provider.config.pools) {
        const worker = new PoolWorker({
          zk: context.zk,
          provider,
          pool,
          hostname: settings.hostname,
          fqdn: settings.hostname,
          version: `${VERSION} nodepool-ts`,
          logger: context.logger,
          pollIntervalMs: this.options.poolPollIntervalMs,
        });
        await worker.start();
        this.poolWorkers.push(worker);
      }
    }
    this.deletedNodeWorker = new DeletedNodeWorker({
      zk: context.zk,
      providers: this.providers,
      logger: context.logger,
      tracer: context.tracer,
      intervalMs: this.options.deletedNodeIntervalMs,
    });
    this.deletedNodeWorker.start();
  }

  /** Safe after a failed or partial start. */
  async stop(): Promise<void> {
    const workers = this.poolWorkers;
    this.poolWorkers = [];
    await Promise.all(workers.map((w) => w.stop()));
    await this.deletedNodeWorker?.stop();
    this.deletedNodeWorker = undefined;
    const providers = [...this.providers.values()];
    this.providers.clear();
    await Promise.all(providers.map((p) => p.stop().catch(() => undefined)));
  }
}
