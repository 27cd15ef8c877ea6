/**
 * The `throwing` driver: the SDK's fake provider, except that `start()` throws a plain string
 * (not an Error) the first `fail-starts` times per provider name in this process, then starts.
 */
import { ContainerModule, FakeDriver, FakeProvider, ProviderDriver, fakeProviderSchema, s, type Provider, type ProviderConfig, type ProviderContext } from '@nodepool-ts/sdk';

/** Failed starts so far, by provider name. */
const attempts = new Map<string, number>();

class ThrowingProvider extends FakeProvider {
  override async start(): Promise<void> {
    const n = (attempts.get(this.name) ?? 0) + 1;
    attempts.set(this.name, n);
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (n <= (this.config.raw['fail-starts'] as number)) throw `cloud endpoint refused the login (attempt ${n})`;
    await super.start();
  }
}

class ThrowingDriver extends FakeDriver {
  override readonly name = 'throwing' as 'fake';
  override readonly providerSchema = fakeProviderSchema.extend({ 'fail-starts': s.int().default(1) });

  override createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    return new ThrowingProvider(config);
  }
}

export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).toConstantValue(new ThrowingDriver());
});
