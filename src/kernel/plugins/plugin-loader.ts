import path from 'node:path';
import { Container, type ContainerModule } from 'inversify';
import { LifecycleContribution } from '../../plugins/lifecycle';
import { ProviderDriver } from '../../plugins/driver';
import type { DiscoveredPlugin } from './plugin-discovery';
import { thrownMessage } from './thrown-message';

/** A plugin whose module loaded and whose contributions were collected. */
export interface LoadedPlugin {
  plugin: DiscoveredPlugin;
  /** The plugin's own container; its parent is the kernel container. */
  container: Container;
  drivers: ProviderDriver[];
  lifecycle: LifecycleContribution[];
}

/** A plugin failed to load; the message names its folder. */
export class PluginLoadError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`plugin ${dir}: ${reason}`);
    this.name = 'PluginLoadError';
  }
}

function isContainerModule(value: unknown): value is ContainerModule {
  return (
    typeof value === 'object' && value !== null &&
    typeof (value as ContainerModule).load === 'function' && typeof (value as ContainerModule).id === 'number'
  );
}

/** Finds the ContainerModule among a module's exports (default, `containerModule`, or itself). */
function containerModuleOf(exports: unknown): ContainerModule | undefined {
  const e = exports as Record<string, unknown> | undefined;
  const candidates = [e?.default, e?.containerModule, e, (e?.default as Record<string, unknown> | undefined)?.default];
  return candidates.find(isContainerModule);
}

/**
 * Loads one plugin into a child container of `kernel`, so a plugin that throws while binding
 * leaves nothing behind: the child is simply dropped. Checks that the drivers it binds are the
 * ones its manifest names.
 */
export async function loadPlugin(plugin: DiscoveredPlugin, kernel: Container): Promise<LoadedPlugin> {
  const entry = path.resolve(plugin.dir, plugin.manifest.entry);
  let exports: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(entry);
  } catch (err) {
    throw new PluginLoadError(plugin.dir, `loading ${plugin.manifest.entry} failed: ${thrownMessage(err)}`);
  }
  const module = containerModuleOf(exports);
  if (!module) {
    throw new PluginLoadError(plugin.dir, `${plugin.manifest.entry} does not export an inversify ContainerModule (default export or "containerModule")`);
  }
  const container = new Container({ parent: kernel, defaultScope: 'Singleton' });
  try {
    await container.load(module);
  } catch (err) {
    throw new PluginLoadError(plugin.dir, `its ContainerModule failed to load: ${thrownMessage(err)}`);
  }
  let drivers: ProviderDriver[];
  let lifecycle: LifecycleContribution[];
  try {
    drivers = container.isCurrentBound(ProviderDriver) ? container.getAll<ProviderDriver>(ProviderDriver) : [];
    lifecycle = container.isCurrentBound(LifecycleContribution) ? container.getAll<LifecycleContribution>(LifecycleContribution) : [];
  } catch (err) {
    throw new PluginLoadError(plugin.dir, `resolving its contributions failed: ${thrownMessage(err)}`);
  }
  for (const driver of drivers) {
    const d = driver as Partial<ProviderDriver> | undefined;
    const missing = [
      typeof d?.name === 'string' && d.name !== '' ? undefined : 'name',
      typeof d?.createProvider === 'function' ? undefined : 'createProvider()',
      typeof d?.poolLabels === 'function' ? undefined : 'poolLabels()',
      d?.providerSchema && typeof d.providerSchema === 'object' ? undefined : 'providerSchema',
    ].filter((m): m is string => m !== undefined);
    if (missing.length > 0) {
      throw new PluginLoadError(plugin.dir, `a ProviderDriver it binds${typeof d?.name === 'string' ? ` ("${d.name}")` : ''} lacks ${missing.join(', ')}`);
    }
  }
  const bound = drivers.map((d) => d.name).sort();
  const declared = [...plugin.manifest.drivers].sort();
  if (bound.join(',') !== declared.join(',')) {
    throw new PluginLoadError(plugin.dir, `manifest declares drivers [${declared.join(', ')}] but the module binds [${bound.join(', ')}]`);
  }
  return { plugin, container, drivers, lifecycle };
}
