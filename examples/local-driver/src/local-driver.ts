/**
 * The `local` driver: a provider whose instances are records in a folder ({@link LocalCloud}),
 * reachable on 127.0.0.1. Small on purpose — it shows every part a launching driver has: a
 * config schema, a provider, create and delete state machines, the instance listing the engine's
 * leak cleanup uses, and launch settings.
 */
import {
  DEFAULT_LAUNCH_SETTINGS, NotFoundError, StateMachine, injectable, s,
  type CreateRequest, type Instance, type Logger, type NodeLaunchSettings, type PoolConfig,
  type Provider, type ProviderConfig, type ProviderContext, type ProviderDriver,
} from '@nodepool-ts/sdk';
import { LocalCloud, type LocalInstance } from './local-cloud';

/** The provider section of `driver: local` (the kernel adds `name`, `max-servers`, ... itself). */
export const localProviderSchema = s.object({
  /** Folder of the instance records; shared by every launcher and tool that looks at this cloud. */
  'state-dir': s.str().required(),
  /** Seconds one launch attempt may take. */
  'launch-timeout': s.number().default(60),
  /** Attempts per node. */
  'launch-retries': s.int().default(3),
  pools: s.list(s.object({
    // `never-boots: true` plays an image that never comes up (for timeout tests).
    labels: s.list(s.object({ name: s.str().required(), 'never-boots': s.bool().default(false) })).default([]),
  })).default([]),
});

interface RawLabel {
  name: string;
  'never-boots'?: boolean;
}

/** What the engine copies onto the node. */
function toInstance(instance: LocalInstance): Instance {
  return { externalId: instance.id, metadata: instance.metadata, interfaceIp: '127.0.0.1', publicIpv4: '127.0.0.1' };
}

/** Creates one instance: `start` → `booting` → `complete`. */
class LocalCreateMachine extends StateMachine {
  constructor(
    private readonly cloud: LocalCloud,
    private readonly request: CreateRequest,
    private readonly neverBoots: boolean,
  ) {
    super();
  }

  async advance(): Promise<Instance | undefined> {
    if (this.state === 'start') {
      // The tags let the engine's leak cleanup recognise the instance if its node goes away.
      const instance = this.cloud.create(this.request.label, this.request.metadata);
      this.externalId = instance.id;
      this.state = 'booting';
      return undefined;
    }
    const id = this.externalId as string;
    if (!this.cloud.get(id)) throw new Error(`instance ${id} disappeared while booting`);
    if (this.neverBoots) return undefined;
    this.cloud.activate(id);
    this.state = 'complete';
    this.complete = true;
    return toInstance(this.cloud.get(id) as LocalInstance);
  }
}

/** Deletes one instance; an instance already gone is a {@link NotFoundError} (counts as deleted). */
class LocalDeleteMachine extends StateMachine {
  constructor(
    private readonly cloud: LocalCloud,
    private readonly id: string,
  ) {
    super();
    this.externalId = id;
  }

  async advance(): Promise<undefined> {
    const existed = this.cloud.remove(this.id);
    this.complete = true;
    this.state = 'complete';
    if (!existed) throw new NotFoundError(`instance ${this.id} not found`);
    return undefined;
  }
}

/** One `driver: local` provider. */
export class LocalProvider implements Provider {
  readonly launches = true;

  constructor(
    readonly config: ProviderConfig,
    readonly cloud: LocalCloud,
    private readonly log: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    this.log.info('local provider started', { dir: this.cloud.dir });
  }

  async stop(): Promise<void> {
    // Nothing runs in the background; in-flight state machines belong to the engine.
  }

  launchSettings(_label: string, _pool: PoolConfig): NodeLaunchSettings {
    const raw = this.config.raw;
    return {
      ...DEFAULT_LAUNCH_SETTINGS,
      launchRetries: raw['launch-retries'] as number,
      launchTimeout: raw['launch-timeout'] as number,
      // Nothing listens for SSH on a record in a folder: no nodescan.
      hostKeyChecking: false,
      username: 'zuul',
    };
  }

  getCreateStateMachine(request: CreateRequest, _log: Logger): StateMachine {
    const pool = this.config.pools.find((p) => p.name === request.pool);
    const label = ((pool?.raw.labels as RawLabel[] | undefined) ?? []).find((l) => l.name === request.label);
    return new LocalCreateMachine(this.cloud, request, label?.['never-boots'] === true);
  }

  getDeleteStateMachine(externalId: unknown, _log: Logger): StateMachine {
    return new LocalDeleteMachine(this.cloud, String(externalId));
  }

  async listInstances(): Promise<Instance[]> {
    return this.cloud.list().map(toInstance);
  }
}

/** The `local` driver, bound to `ProviderDriver` by the plugin's ContainerModule. */
@injectable()
export class LocalDriver implements ProviderDriver {
  readonly name = 'local';
  readonly providerSchema = localProviderSchema;

  poolLabels(pool: Record<string, unknown>): string[] {
    return ((pool.labels as RawLabel[] | undefined) ?? []).map((l) => l.name);
  }

  createProvider(config: ProviderConfig, context: ProviderContext): Provider {
    return new LocalProvider(config, new LocalCloud(config.raw['state-dir'] as string), context.logger.child({ provider: config.name }));
  }
}
