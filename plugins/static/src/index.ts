import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { StaticProvider } from './static-provider';
import { staticCrossCheck, staticPoolLabels, staticProviderSchema } from './static-provider-schema';

/** The `static` driver: hands out configured hosts, never launches (spec drivers-config §2). */
@injectable()
export class StaticDriver implements ProviderDriver {
  readonly name = 'static';
  readonly providerSchema = staticProviderSchema;
  poolLabels = staticPoolLabels;
  crossCheck = staticCrossCheck;

  createProvider(config: ProviderConfig, context: ProviderContext): Provider {
    return new StaticProvider(config, context);
  }
}

/** Binds the static driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(StaticDriver).inSingletonScope();
});

export { StaticProvider } from './static-provider';
