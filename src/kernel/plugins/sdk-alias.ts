import Module from 'node:module';

/** The module name plugins import the SDK by. */
export const SDK_MODULE = '@nodepool-ts/sdk';
/** The module name of the SDK's test kit entry. */
export const SDK_TESTING_MODULE = '@nodepool-ts/sdk/testing';

type ResolveFilename = (request: string, ...rest: unknown[]) => string;
const ModuleInternals = Module as unknown as { _resolveFilename: ResolveFilename & { nodepoolSdk?: string } };

/**
 * Lets plugins anywhere on disk `require('@nodepool-ts/sdk')` and get this process's SDK (the
 * same pattern editors use for their extension API module): out-of-tree plugins cannot resolve
 * our package through node_modules, and they must share our SDK instance so tokens and inversify
 * classes match. The hook holds no state of its own beyond the resolved path, so any number of
 * kernels can share it; installing it twice is a no-op. Jest resolves modules itself and maps the
 * name with `moduleNameMapper` instead.
 */
export function installSdkAlias(): void {
  if (ModuleInternals._resolveFilename.nodepoolSdk) return;
  const sdkPath = require.resolve('../../plugins/index');
  // The test kit entry too, so a plugin that uses the fakes shares this SDK instance as well.
  const testingPath = require.resolve('../../plugins/testing/index');
  const original = ModuleInternals._resolveFilename;
  const patched: ResolveFilename & { nodepoolSdk?: string } = function resolve(this: unknown, request, ...rest) {
    if (request === SDK_MODULE) return sdkPath;
    if (request === SDK_TESTING_MODULE) return testingPath;
    return original.call(this, request, ...rest);
  };
  patched.nodepoolSdk = sdkPath;
  ModuleInternals._resolveFilename = patched;
}
