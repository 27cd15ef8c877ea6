/**
 * The `minimal` driver: what a third-party driver for a non-SSH platform implements and no more
 * (start, stop, create and delete machines, listInstances). No `launchSettings`, so the engine's
 * defaults apply; its nodes' address (TEST-NET-1, routed nowhere) never answers an SSH scan.
 */
import {
  ContainerModule, FakeCloud, ProviderDriver, fakeCloudOptions, fakeProviderSchema,
  type CreateRequest, type Instance, type Logger, type Provider, type ProviderConfig, type StateMachine,
} from '@nodepool-ts/sdk';

class MinimalProvider implements Provider {
  readonly launches = true;
  readonly cloud: FakeCloud;

  constructor(readonly config: ProviderConfig) {
    this.cloud = new FakeCloud({ ...fakeCloudOptions(config.raw), ipAddress: '192.0.2.1' });
  }

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  getCreateStateMachine(request: CreateRequest, _log: Logger): StateMachine {
    return this.cloud.createMachine(request);
  }

  getDeleteStateMachine(externalId: unknown, _log: Logger): StateMachine {
    return this.cloud.deleteMachine(externalId);
  }

  async listInstances(): Promise<Instance[]> {
    return [...this.cloud.instances.values()].map((i) => this.cloud.toInstance(i));
  }
}

const minimalDriver: ProviderDriver = {
  name: 'minimal',
  providerSchema: fakeProviderSchema,
  poolLabels: (pool) => ((pool.labels as Array<{ name: string }> | undefined) ?? []).map((l) => l.name),
  createProvider: (config) => new MinimalProvider(config),
};

export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).toConstantValue(minimalDriver);
});
