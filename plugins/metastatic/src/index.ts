import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { metastaticPoolLabels, metastaticProviderSchema, metastaticCrossCheck } from './metastatic-provider-schema';
import { MetastaticProvider } from './metastatic-provider';

/** The `metastatic` driver (spec drivers-config §3). */
@injectable()
export class MetastaticDriver implements ProviderDriver {
  readonly name = 'metastatic';
  readonly providerSchema = metastaticProviderSchema;
  poolLabels = metastaticPoolLabels;
  crossCheck = metastaticCrossCheck;
  createProvider(config: ProviderConfig, context: ProviderContext): Provider {
    return new MetastaticProvider(config, context);
  }
}

/** Binds the metastatic driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(MetastaticDriver).inSingletonScope();
});
