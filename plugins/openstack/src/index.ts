import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { openstackPoolLabels, openstackProviderSchema, openstackCrossCheck } from './openstack-provider-schema';

/**
 * The `openstack` driver. Its configuration schema is complete; providers are created by the
 * launcher engine, which this plugin gains with the engine work.
 */
@injectable()
export class OpenstackDriver implements ProviderDriver {
  readonly name = 'openstack';
  readonly providerSchema = openstackProviderSchema;
  poolLabels = openstackPoolLabels;
  crossCheck = openstackCrossCheck;
  createProvider(config: ProviderConfig, _context: ProviderContext): Provider {
    throw new Error(`${config.location}: the openstack driver cannot run providers yet`);
  }
}

/** Binds the openstack driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(OpenstackDriver).inSingletonScope();
});
