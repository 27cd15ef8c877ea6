import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { staticCrossCheck, staticPoolLabels, staticProviderSchema } from './static-provider-schema';

/**
 * The `static` driver. Its configuration schema is complete; providers are created by the
 * launcher engine, which this plugin gains with the engine work.
 */
@injectable()
export class StaticDriver implements ProviderDriver {
  readonly name = 'static';
  readonly providerSchema = staticProviderSchema;
  poolLabels = staticPoolLabels;
  crossCheck = staticCrossCheck;

  createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    throw new Error(`${config.location}: the static driver cannot run providers yet`);
  }
}

/** Binds the static driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(StaticDriver).inSingletonScope();
});
