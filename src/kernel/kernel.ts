import 'reflect-metadata';
import { SpanStatusCode } from '@opentelemetry/api';
import { Container } from 'inversify';
import type { LifecycleContribution } from '../plugins/lifecycle';
import { LauncherSettings } from '../plugins/launcher-settings';
import { Logger } from '../plugins/logger';
import { Metrics } from '../plugins/metrics';
import { NodepoolConfigSource, type NodepoolConfig } from '../plugins/nodepool-config';
import { Tracer } from '../plugins/tracer';
import { ZooKeeper } from '../plugins/zookeeper';
import type { ZkClientOptions } from '../zk/zk-client';
import { DriverRegistry } from './plugins/driver-registry';
import { DEFAULT_PLUGIN_DIR } from './config/launcher-settings-schema';
import { discoverPlugins, type PluginFailure } from './plugins/plugin-discovery';
import { loadPlugin, type LoadedPlugin } from './plugins/plugin-loader';
import { installSdkAlias } from './plugins/sdk-alias';
import { thrownMessage } from './plugins/thrown-message';
import { createLogger } from './services/pino-logger';
import { PromMetrics } from './services/prom-metrics';
import { TracingService } from './services/tracing-service';
import { ZooKeeperService } from './services/zookeeper-service';

/** Token of the kernel's {@link DriverRegistry} (kernel-internal; plugins use ProviderDriver). */
export const DriverRegistryToken: unique symbol = Symbol.for('nodepool-ts.kernel.DriverRegistry');

/** How to build a kernel. */
export interface KernelOptions {
  settings: LauncherSettings;
  /** Use this logger instead of creating one from the settings. */
  logger?: Logger;
  /** Log destination when the kernel creates its logger (tests capture it). */
  logStream?: NodeJS.WritableStream;
  /** The process's main kernel also starts the OpenTelemetry NodeSDK (global registration). */
  processGlobal?: boolean;
  /**
   * Where this kernel's ZooKeeper session goes. When given, {@link ZooKeeper} is bound before the
   * plugins load (so they can inject it) and connected first on start, closed last on stop.
   */
  zookeeper?: ZkClientOptions;
  /**
   * Core services that start before the plugins and stop after them (ZooKeeper, the engine).
   * Given the kernel container so they can resolve kernel services.
   */
  coreServices?: (container: Container) => LifecycleContribution[];
}

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * One launcher kernel: an inversify container with the kernel services (settings, logger,
 * tracer, metrics, ZooKeeper) bound to their SDK tokens, the driver plugins found in the
 * configured folders, and a lifecycle. Nothing is shared between kernels, so tests can run two
 * launchers in one process.
 */
export class Kernel {
  readonly container = new Container({ defaultScope: 'Singleton' });
  readonly drivers = new DriverRegistry();
  readonly plugins: LoadedPlugin[] = [];
  /** Plugins that could not be discovered or loaded, with messages naming their folders. */
  readonly pluginFailures: PluginFailure[] = [];
  readonly logger: Logger;
  readonly tracing: TracingService;
  readonly metrics = new PromMetrics();
  /** The kernel's ZooKeeper, when configured. */
  readonly zookeeper: ZooKeeperService | undefined;
  private config: NodepoolConfig | undefined;
  private core: LifecycleContribution[] = [];
  private started: LifecycleContribution[] = [];
  private state: State = 'created';

  private constructor(readonly settings: LauncherSettings, options: KernelOptions) {
    this.logger =
      options.logger ??
      createLogger({ level: settings.log.level, format: settings.log.format, stream: options.logStream });
    this.tracing = new TracingService(settings.tracing, options.processGlobal ?? false, {
      'host.name': settings.hostname,
    });
    this.container.bind(LauncherSettings).toConstantValue(settings);
    this.container.bind(Logger).toConstantValue(this.logger);
    this.container.bind(Tracer).toConstantValue(this.tracing.tracer);
    this.container.bind(Metrics).toConstantValue(this.metrics);
    this.container.bind(DriverRegistryToken).toConstantValue(this.drivers);
    const source: NodepoolConfigSource = {
      current: () => {
        if (!this.config) throw new Error('no nodepool.yaml loaded yet');
        return this.config;
      },
    };
    this.container.bind(NodepoolConfigSource).toConstantValue(source);
    if (options.zookeeper) {
      this.zookeeper = new ZooKeeperService(options.zookeeper, this.logger);
      this.container.bind(ZooKeeper).toConstantValue(this.zookeeper.zk);
    }
  }

  /** Makes `config` the one {@link NodepoolConfigSource} gives (at start and on reload). */
  setConfig(config: NodepoolConfig): void {
    this.config = config;
  }

  /** Builds a kernel and loads its plugins; broken plugins are logged and skipped. */
  static async create(options: KernelOptions): Promise<Kernel> {
    const kernel = new Kernel(options.settings, options);
    await kernel.loadPlugins();
    kernel.core = [
      ...(kernel.zookeeper ? [kernel.zookeeper] : []),
      ...(options.coreServices?.(kernel.container) ?? []),
    ];
    return kernel;
  }

  private async loadPlugins(): Promise<void> {
    installSdkAlias();
    // `--plugin-dirs` adds to the built-in folder unless `plugins.builtin` is off; a folder
    // listed twice is scanned once.
    const { dirs, builtin } = this.settings.plugins;
    const found = discoverPlugins(builtin === false ? dirs : [DEFAULT_PLUGIN_DIR, ...dirs]);
    this.pluginFailures.push(...found.failures);
    for (const plugin of found.plugins) {
      try {
        const loaded = await loadPlugin(plugin, this.container);
        this.drivers.register(plugin.dir, loaded.drivers);
        this.plugins.push(loaded);
      } catch (err) {
        this.pluginFailures.push({ dir: plugin.dir, message: thrownMessage(err) });
      }
    }
    for (const failure of this.pluginFailures) {
      this.logger.error(`plugin not loaded: ${failure.message}`, { plugin: failure.dir });
    }
    this.logger.info('plugins loaded', {
      plugins: this.plugins.map((p) => p.plugin.name),
      drivers: this.drivers.names(),
    });
  }

  /** Lifecycle participants in start order: core services, then plugins in load order. */
  private participants(): LifecycleContribution[] {
    return [...this.core, ...this.plugins.flatMap((p) => p.lifecycle)];
  }

  private async traced(hook: 'start' | 'stop', service: LifecycleContribution): Promise<void> {
    const fn = service[hook];
    if (!fn) return;
    await this.tracing.tracer.startActiveSpan(`kernel.${hook} ${service.name}`, async (span) => {
      try {
        await fn.call(service);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Starts core services, then plugin services; on failure stops what started and rethrows. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`kernel cannot start from state ${this.state}`);
    this.state = 'starting';
    for (const service of this.participants()) {
      try {
        await this.traced('start', service);
        this.started.push(service);
      } catch (err) {
        this.logger.error(`start of ${service.name} failed`, { err });
        await this.stop();
        throw err;
      }
    }
    this.state = 'running';
  }

  /**
   * Stops plugin services in parallel, then core services in reverse start order (ZooKeeper
   * last, so the others can still clean up through it). Each phase waits at most
   * `settings.stopTimeout` seconds; a service that overruns is logged and left behind.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    const started = this.started;
    this.started = [];
    const core = started.filter((s) => this.core.includes(s)).reverse();
    const rest = started.filter((s) => !this.core.includes(s));
    await this.stopAll(rest);
    for (const service of core) await this.stopAll([service]);
    await this.tracing.shutdown();
    this.state = 'stopped';
  }

  private async stopAll(services: LifecycleContribution[]): Promise<void> {
    const limitMs = this.settings.stopTimeout * 1000;
    await Promise.all(
      services.map(async (service) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), limitMs);
        });
        try {
          const outcome = await Promise.race([this.traced('stop', service).then(() => 'ok' as const), timeout]);
          if (outcome === 'timeout') this.logger.warn(`stop of ${service.name} timed out after ${this.settings.stopTimeout}s`);
        } catch (err) {
          this.logger.error(`stop of ${service.name} failed`, { err });
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** Current lifecycle state. */
  get status(): State {
    return this.state;
  }
}
