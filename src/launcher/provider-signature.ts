/**
 * What decides whether a running provider must be restarted on a configuration change: its own
 * section, and the top-level `diskimages` entries it uses (username, python-path, pause, ... live
 * there, and Nodepool's launcher sees their edits: ProviderManager compares the provider
 * configs, which include their diskimages, CFG:488-500).
 */
import type { NodepoolConfig, ProviderConfig } from '../plugins/nodepool-config';

/** A string equal for two provider configurations exactly when they would run the same way. */
export function providerSignature(provider: ProviderConfig, config: Pick<NodepoolConfig, 'diskimages'>): string {
  const used = (provider.raw.diskimages as Array<{ name?: unknown }> | undefined) ?? [];
  const names = [...new Set(used.map((d) => String(d?.name)))].sort();
  // `location` is where the section is, not what it says: not part of it.
  return JSON.stringify([provider.driver, provider.raw, names.map((n) => [n, config.diskimages.get(n) ?? null])]);
}
