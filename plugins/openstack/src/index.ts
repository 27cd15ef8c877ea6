import {
  ContainerModule, injectable, type ProviderConfig, type ProviderContext, type Provider,
  ProviderDriver,
} from '@nodepool-ts/sdk';
import { OpenstackProvider } from './openstack-provider';
import { openstackPoolLabels, openstackProviderSchema, openstackCrossCheck } from './openstack-provider-schema';

/** The `openstack` driver (spec drivers-config §5). */
@injectable()
export class OpenstackDriver implements ProviderDriver {
  readonly name = 'openstack';
  readonly providerSchema = openstackProviderSchema;
  poolLabels = openstackPoolLabels;
  crossCheck = openstackCrossCheck;
  createProvider(config: ProviderConfig, context: ProviderContext): Provider {
    return new OpenstackProvider(config, context);
  }
}

/** Binds the openstack driver. */
export default new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(OpenstackDriver).inSingletonScope();
});

export { OpenstackProvider } from './openstack-provider';
