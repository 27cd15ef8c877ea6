import type { NodepoolConfig } from '../../plugins/nodepool-config';
import { configError, type ConfigError } from './config-error';
import type { LoadedProvider } from './provider-loader';

// A driver cross-check message starts with a key path relative to the provider, e.g.
// `pools[0].labels[1].cloud-image: cloud-image x does not exist ...`.
const RELATIVE_PATH = /^((?:[\w-]+|\[\d+\]|\["[^"]*"\])(?:\.[\w-]+|\[\d+\]|\["[^"]*"\])*): (.*)$/s;

function driverErrors(loaded: LoadedProvider, config: NodepoolConfig, file: string): ConfigError[] {
  const at = `providers[${loaded.index}]`;
  let messages: string[];
  try {
    messages = loaded.driver.crossCheck?.(loaded.config, config) ?? [];
  } catch (err) {
    return [configError(file, 'check', at, `driver "${loaded.driver.name}" cross-check failed: ${(err as Error).message}`)];
  }
  return messages.map((message) => {
    const m = RELATIVE_PATH.exec(message);
    return m ? configError(file, 'check', `${at}${m[1].startsWith('[') ? '' : '.'}${m[1]}`, m[2]) : configError(file, 'check', at, message);
  });
}

/**
 * Checks every loaded provider against the rest of the configuration and removes those that
 * fail from `config.providers`, so one bad provider never takes the others down:
 * - every pool label must be a top-level label (all drivers; Nodepool's config-validate only
 *   checks OpenStack, its runtime fails for all, spec §1.3);
 * - the driver's own `crossCheck`, whose messages start with a key path relative to the
 *   provider (`pools[0].labels[1].cloud-image: ...`).
 * All providers are checked against the same, complete configuration before any is removed.
 */
export function crossCheckProviders(loaded: readonly LoadedProvider[], config: NodepoolConfig, file: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const failed: LoadedProvider[] = [];
  for (const entry of loaded) {
    const own: ConfigError[] = [];
    entry.config.pools.forEach((pool, p) => {
      for (const label of pool.labels) {
        if (!config.labels.has(label)) {
          own.push(configError(file, 'check', `providers[${entry.index}].pools[${p}]`, `label ${label} in provider ${entry.config.name} not in top-level labels`));
        }
      }
    });
    own.push(...driverErrors(entry, config, file));
    if (own.length > 0) failed.push(entry);
    errors.push(...own);
  }
  for (const entry of failed) config.providers.delete(entry.config.name);
  return errors;
}
