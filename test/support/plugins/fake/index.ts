/** Loads the SDK test kit's `fake` driver like any plugin (engine tests add this folder). */
import { fakeDriverModule } from '@nodepool-ts/sdk';

export default fakeDriverModule;
