import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { metastaticPoolLabels, metastaticProviderSchema, metastaticCrossCheck } from './metastatic-provider-schema';

/**
 * The `metastatic` driver. Its configuration schema is complete; providers are created by the
 * launcher engine, which this plugin gains with the engine work.
 */
@injectable()
export class MetastaticDriver implements ProviderDriver {
  readonly name = 'metastatic';
  readonly providerSchema = metastaticProviderSchema;
  poolLabels = metastaticPoolLabels;
  crossCheck = metastaticCrossCheck;
  createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    throw new Error(`${config.location}: the metastatic driver cannot run providers yet`);
  }
}

/** Binds the metastatic driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(MetastaticDriver).inSingletonScope();
});
