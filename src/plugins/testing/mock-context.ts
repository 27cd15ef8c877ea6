/**
 * Stand-ins for the kernel services a driver gets, so a driver author can unit-test a provider
 * without a launcher: {@link MockLogger} (records every line), {@link NoopMetrics},
 * {@link mockProviderConfig} (a provider section validated by the driver's own schema, exactly as
 * the kernel does) and {@link mockProviderContext}. The ZooKeeper of a mock context throws on use
 * unless the test passes one: a provider that needs ZooKeeper belongs in a test against a real
 * server ({@link startTestLauncher}, {@link runDriverConformance}).
 */
import { trace } from '@opentelemetry/api';
import type { ProviderContext, ProviderDriver } from '../driver';
import type { Logger } from '../logger';
import type { Counter, Gauge, Histogram, Metrics } from '../metrics';
import type { NodepoolConfig, ProviderConfig } from '../nodepool-config';
import { formatIssue } from '../config-validation';
import { validateProviderSection } from '../provider-section';
import type { ZooKeeper } from '../zookeeper';

/** One line written to a {@link MockLogger}. */
export interface LoggedLine {
  /** Level it was logged at. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The message. */
  msg: string;
  /** The line's fields merged over the bindings of the child loggers it came through. */
  fields: Record<string, unknown>;
}

/** A {@link Logger} that keeps every line in memory; child loggers share its {@link MockLogger.lines}. */
export class MockLogger implements Logger {
  /**
   * @param lines where lines go (shared with children)
   * @param bindings fields every line of this logger carries
   */
  constructor(
    readonly lines: LoggedLine[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  /** Records a `debug` line. */
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  /** Records an `info` line. */
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }

  /** Records a `warn` line. */
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }

  /** Records an `error` line. */
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  /** A logger writing to the same lines with `bindings` added. */
  child(bindings: Record<string, unknown>): MockLogger {
    return new MockLogger(this.lines, { ...this.bindings, ...bindings });
  }

  /** Messages of the lines at `level` (all levels when omitted), in order. */
  messages(level?: LoggedLine['level']): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg);
  }

  private write(level: LoggedLine['level'], msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, msg, fields: { ...this.bindings, ...fields } });
  }
}

const noopCounter: Counter = { inc: () => undefined };
const noopGauge: Gauge = { set: () => undefined, reset: () => undefined };
const noopHistogram: Histogram = { observe: () => undefined };

/** A {@link Metrics} registry that records nothing and renders as empty. */
export class NoopMetrics implements Metrics {
  /** A counter that ignores increments. */
  counter(): Counter {
    return noopCounter;
  }

  /** A gauge that ignores readings. */
  gauge(): Gauge {
    return noopGauge;
  }

  /** A histogram that ignores observations. */
  histogram(): Histogram {
    return noopHistogram;
  }

  /** Always the empty string. */
  async render(): Promise<string> {
    return '';
  }
}

/**
 * A {@link ProviderConfig} from one provider section (as it would appear under `providers:`),
 * validated and normalized by the driver's own schema plus the common keys, as the kernel does.
 * `name` defaults to `test-provider` and `driver` to the driver's name. Throws with every issue
 * (key paths included) when the section is invalid.
 *
 * @param driver the driver whose schema applies
 * @param section the provider section, without `name`/`driver` if the defaults suit
 */
export function mockProviderConfig(driver: ProviderDriver, section: Record<string, unknown>): ProviderConfig {
  const raw = { name: 'test-provider', driver: driver.name, ...section };
  const result = validateProviderSection(driver, raw, 0, 'test.yaml');
  if (!result.config) {
    throw new Error(`invalid provider section for driver ${driver.name}:\n${result.issues.map((i) => formatIssue(i)).join('\n')}`);
  }
  return result.config;
}

/** A whole {@link NodepoolConfig} holding `providers` (labels derived from their pools). */
export function mockNodepoolConfig(providers: readonly ProviderConfig[] = []): NodepoolConfig {
  const labels = new Map<string, { name: string; 'min-ready': number; 'max-ready-age': number }>();
  for (const provider of providers) {
    for (const pool of provider.pools) {
      for (const label of pool.labels) labels.set(label, { name: label, 'min-ready': 0, 'max-ready-age': 0 });
    }
  }
  return {
    file: '/nonexistent/nodepool.yaml',
    secureFile: null,
    labels,
    diskimages: new Map(),
    providers: new Map(providers.map((p) => [p.name, p])),
    tenantLimits: new Map(),
    maxHoldAge: Infinity,
    webapp: { port: 8005, listenAddress: '0.0.0.0' },
    zookeeperServers: [],
    zookeeperTls: null,
    zookeeperTimeout: 10,
  };
}

/** A ZooKeeper whose every member throws, naming what the test should do instead. */
function unavailableZooKeeper(): ZooKeeper {
  return new Proxy({} as ZooKeeper, {
    get(_target, key) {
      if (key === 'then') return undefined; // not a thenable
      throw new Error(`mockProviderContext: ZooKeeper.${String(key)} is not available; pass { zk } or test against a real ZooKeeper with startTestLauncher`);
    },
  });
}

/** A {@link ProviderContext} whose logger is a {@link MockLogger}. */
export interface MockProviderContext extends ProviderContext {
  /** Every line the provider logged. */
  readonly logger: MockLogger;
}

/**
 * A {@link ProviderContext} for unit tests: a {@link MockLogger}, {@link NoopMetrics}, a no-op
 * tracer, the configuration of `overrides.config` (else an empty one) and no fleet (the provider
 * acts as if it were the only launcher). Any field may be overridden.
 */
export function mockProviderContext(overrides: Partial<Omit<ProviderContext, 'logger'>> & { logger?: MockLogger } = {}): MockProviderContext {
  return {
    zk: overrides.zk ?? unavailableZooKeeper(),
    logger: overrides.logger ?? new MockLogger(),
    tracer: overrides.tracer ?? trace.getTracer('nodepool-ts-sdk-testing'),
    metrics: overrides.metrics ?? new NoopMetrics(),
    config: overrides.config ?? mockNodepoolConfig(),
    ...(overrides.fleet ? { fleet: overrides.fleet } : {}),
  };
}
