/**
 * The `hanging` driver: the SDK's fake provider, except that `start()` and `stop()` never settle,
 * as a provider stuck on an unreachable cloud endpoint would.
 */
import { ContainerModule, FakeDriver, FakeProvider, ProviderDriver, type Provider, type ProviderConfig, type ProviderContext } from '@nodepool-ts/sdk';

class HangingProvider extends FakeProvider {
  override start(): Promise<void> {
    return new Promise(() => undefined);
  }

  override stop(): Promise<void> {
    return new Promise(() => undefined);
  }
}

class HangingDriver extends FakeDriver {
  override readonly name = 'hanging' as 'fake';

  override createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    return new HangingProvider(config);
  }
}

export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).toConstantValue(new HangingDriver());
});
