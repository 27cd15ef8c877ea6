/**
 * The `fake` driver: a {@link Provider} over a {@link FakeCloud}, for tests of the engine and of
 * third-party tooling. Loadable through nodepool.yaml (`driver: fake`) via {@link FakeDriver}.
 */
import { ContainerModule, injectable } from 'inversify';
import { s } from '../config-schema';
import { ProviderDriver, type Provider, type ProviderContext } from '../driver';
import type { Logger } from '../logger';
import { DEFAULT_LAUNCH_SETTINGS, type NodeLaunchSettings } from '../node-launch-settings';
import type { PoolConfig, ProviderConfig } from '../nodepool-config';
import { QuotaInformation } from '../quota';
import type { CreateRequest, Instance, StateMachine } from '../state-machine';
import type { Node } from '../models/node';
import { FakeCloud, type FakeCloudOptions } from './fake-cloud';

/** A provider whose instances live in a {@link FakeCloud}. */
export class FakeProvider implements Provider {
  readonly launches = true;
  /** Nodes reported through {@link FakeProvider.nodeDeleted}, in order. */
  readonly deletedNodes: Node[] = [];
  /** Whether {@link FakeProvider.start} ran and {@link FakeProvider.stop} did not. */
  running = false;

  /**
   * @param config the provider section
   * @param cloud the simulated cloud (a fresh one configured from `config.raw` by default)
   */
  constructor(
    readonly config: ProviderConfig,
    readonly cloud: FakeCloud = new FakeCloud(fakeCloudOptions(config.raw)),
  ) {}

  /** The provider's name from its section. */
  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  getCreateStateMachine(request: CreateRequest, _log: Logger): StateMachine {
    return this.cloud.createMachine(request);
  }

  getDeleteStateMachine(externalId: unknown, _log: Logger): StateMachine {
    return this.cloud.deleteMachine(externalId);
  }

  async listInstances(): Promise<Instance[]> {
    return [...this.cloud.instances.values()].map((i) => this.cloud.toInstance(i));
  }

  async nodeDeleted(node: Node): Promise<void> {
    this.deletedNodes.push(node);
  }

  async getQuotaLimits(): Promise<QuotaInformation> {
    return this.cloud.quotaLimits();
  }

  /** From the provider section: `launch-retries`, `launch-timeout`, `boot-timeout`, `host-key-checking`. */
  launchSettings(_label: string, _pool: PoolConfig): NodeLaunchSettings {
    const raw = this.config.raw;
    return {
      ...DEFAULT_LAUNCH_SETTINGS,
      launchRetries: raw['launch-retries'] as number,
      launchTimeout: raw['launch-timeout'] as number,
      bootTimeout: raw['boot-timeout'] as number,
      hostKeyChecking: raw['host-key-checking'] as boolean,
      username: 'zuul',
    };
  }

  /** False for labels configured with `image-ready: false`. */
  labelReady(label: string, pool: PoolConfig): boolean {
    const raw = (pool.raw.labels as Array<RawFakeLabel & { 'image-ready'?: boolean }> | undefined) ?? [];
    return raw.find((l) => l.name === label)?.['image-ready'] !== false;
  }

  quotaNeededByLabel(label: string, _pool: PoolConfig): QuotaInformation {
    return new QuotaInformation(this.cloud.resourcesFor(label));
  }
}

/**
 * Provider section of the fake driver: cloud behaviour at the top, labels (with their resources)
 * in the pools.
 */
export const fakeProviderSchema = s.object({
  'boot-steps': s.int().default(1),
  'launch-retries': s.int().default(3),
  // Seconds, fractions allowed so tests can time out quickly.
  'launch-timeout': s.number().default(3600),
  'boot-timeout': s.number().default(60),
  'host-key-checking': s.bool().default(true),
  'boot-ms': s.int().default(0),
  'delete-ms': s.int().default(0),
  'id-prefix': s.str(),
  'ip-address': s.str(),
  limits: s.dict(s.number()),
  attributes: s.dict(),
  pools: s.list(s.object({
    'max-cores': s.int(),
    'max-ram': s.int(),
    azs: s.list(s.str()),
    // `image-ready: false` plays a label whose image is not available (labelReady false).
    labels: s.list(s.object({ name: s.str().required(), resources: s.dict(s.number()), 'image-ready': s.bool().default(true) })).default([]),
  })).default([]),
});

interface RawFakeLabel {
  name: string;
  resources?: Record<string, number>;
}

/** {@link FakeCloudOptions} from a validated provider section. */
export function fakeCloudOptions(raw: Record<string, unknown>): FakeCloudOptions {
  const labelResources: Record<string, Record<string, number>> = {};
  for (const pool of (raw.pools as Array<{ labels?: RawFakeLabel[] }> | undefined) ?? []) {
    for (const label of pool.labels ?? []) if (label.resources) labelResources[label.name] = label.resources;
  }
  return {
    bootSteps: raw['boot-steps'] as number | undefined,
    bootMs: raw['boot-ms'] as number | undefined,
    deleteMs: raw['delete-ms'] as number | undefined,
    idPrefix: raw['id-prefix'] as string | undefined,
    ipAddress: raw['ip-address'] as string | undefined,
    limits: raw.limits as Record<string, number> | undefined,
    attributes: raw.attributes as Record<string, unknown> | undefined,
    labelResources,
  };
}

/** The `fake` driver. */
@injectable()
export class FakeDriver implements ProviderDriver {
  readonly name = 'fake';
  readonly providerSchema = fakeProviderSchema;

  poolLabels(pool: Record<string, unknown>): string[] {
    return ((pool.labels as RawFakeLabel[] | undefined) ?? []).map((l) => l.name);
  }

  createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    return new FakeProvider(config);
  }
}

/** Binds the {@link FakeDriver}, for kernels and tests that load it like a plugin. */
export const fakeDriverModule = new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(FakeDriver).inSingletonScope();
});
