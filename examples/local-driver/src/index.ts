/**
 * The plugin's entry (`"nodepool-ts": {"entry": "dist/src/index.js"}` in package.json): an
 * inversify ContainerModule that binds the driver. The launcher loads it into a container of its
 * own, so a plugin that fails to load takes nothing else down.
 */
import { ContainerModule, ProviderDriver } from '@nodepool-ts/sdk';
import { LocalDriver } from './local-driver';

export { LocalCloud, type LocalInstance } from './local-cloud';
export { LocalDriver, LocalProvider, localProviderSchema } from './local-driver';

/** Binds the `local` driver. */
export const containerModule = new ContainerModule(({ bind }) => {
  bind(ProviderDriver).to(LocalDriver).inSingletonScope();
});

export default containerModule;
