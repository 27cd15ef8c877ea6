import fs from 'node:fs';
import path from 'node:path';
import type { ProviderDriver } from '../../plugins/driver';
import type { NodepoolConfig } from '../../plugins/nodepool-config';
import { validate } from '../../plugins/config-validation';
import { configError, configErrors, type ConfigError } from './config-error';
import { readConfigDocument, type ReadConfigOptions } from './config-document';
import { crossCheckProviders } from './cross-checks';
import { loadProviders } from './provider-loader';
import { applySecureFile } from './secure-file';
import { buildTopLevel } from './top-level-config';
import { topLevelSchema } from './top-level-schema';

/** A file a configuration was read from and its modification time then. */
export interface ConfigFileStamp {
  /** Absolute path. */
  file: string;
  /** `st_mtime_ns` before it was read; null if it could not be read. */
  mtimeNs: bigint | null;
}

/** What {@link loadNodepoolConfig} returns. */
export interface NodepoolConfigResult {
  /**
   * The configuration, without the providers that had errors. Undefined only when a file could
   * not be read or parsed at all, or its top level is not a mapping.
   */
  config?: NodepoolConfig;
  /** Every problem found, each naming its file and key path (see `formatConfigError`). */
  errors: ConfigError[];
  /** The files read, for {@link configFilesChanged}. */
  stamps: ConfigFileStamp[];
}

/**
 * Loads nodepool.yaml and the optional secure file (spec drivers-config §1): `NODEPOOL_*`
 * substitution, safe YAML, the strict top-level schema, diskimage inheritance, each provider
 * against its driver's schema plus the common provider and pool keys, cross checks, the secure
 * file merge. It collects every error instead of stopping at the first, and leaves out only the
 * providers that have errors, so the caller decides: config-validate fails on any error, the
 * launcher logs them and runs what is valid. Never connects anywhere.
 *
 * @param file path of nodepool.yaml
 * @param secureFile path of the secure file, or null
 * @param drivers the drivers available, by their `driver:` name
 * @param env environment for `%(NODEPOOL_*)` substitution
 * @param options `runtime` for the launcher (duplicate keys and unknown provider keys reported,
 *   not fatal, as on Nodepool's launcher; config-validate stays strict); test hooks
 */
export function loadNodepoolConfig(
  file: string,
  secureFile: string | null,
  drivers: readonly ProviderDriver[],
  env: NodeJS.ProcessEnv = process.env,
  options: ReadConfigOptions = {},
): NodepoolConfigResult {
  const mainFile = path.resolve(file);
  const securePath = secureFile ? path.resolve(secureFile) : null;
  const main = readConfigDocument(mainFile, env, options);
  const stamps: ConfigFileStamp[] = [{ file: mainFile, mtimeNs: main.mtimeNs }];
  if (main.error) return { errors: [main.error], stamps };
  const warnings = main.warnings ?? [];
  const doc = main.value;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    const what = doc === null ? 'the file is empty' : 'the top level is not a mapping';
    return { errors: [configError(mainFile, 'schema', '', `expected a dictionary of settings: ${what}`)], stamps };
  }

  const top = validate<Record<string, unknown>>(topLevelSchema, doc);
  const errors = [...warnings, ...configErrors(mainFile, 'schema', top.issues)];
  const built = buildTopLevel(top.value, mainFile);
  errors.push(...built.errors);
  const config: NodepoolConfig = { file: mainFile, secureFile: securePath, providers: new Map(), ...built.config };

  if (securePath) {
    const secure = readConfigDocument(securePath, env, options);
    stamps.push({ file: securePath, mtimeNs: secure.mtimeNs });
    // The secure file carries ZooKeeper credentials: without it the config is not usable.
    // No YAML snippet for the secure file: its lines are credentials (config-validate prints
    // snippets, and its output often lands in CI logs). File, line and column still say where.
    if (secure.error) return { errors: [...errors, { ...secure.error, detail: undefined }], stamps };
    errors.push(...applySecureFile(config, secure.value, securePath));
  }

  // Providers are validated from the document as parsed (not the top-level result), so driver
  // schemas still see YAML floats as floats.
  const loaded = loadProviders((doc as Record<string, unknown>).providers, drivers, mainFile, options.runtime ?? false);
  errors.push(...loaded.errors);
  for (const entry of loaded.providers) config.providers.set(entry.config.name, entry.config);
  errors.push(...crossCheckProviders(loaded.providers, config, mainFile));
  return { config, errors, stamps };
}

/**
 * True when any file of a loaded configuration changed since (or appeared/vanished): the
 * launcher's cheap per-loop reload check (spec §1.1 step 5).
 */
export function configFilesChanged(stamps: readonly ConfigFileStamp[]): boolean {
  return stamps.some((stamp) => {
    try {
      return fs.statSync(stamp.file, { bigint: true }).mtimeNs !== stamp.mtimeNs;
    } catch {
      return stamp.mtimeNs !== null;
    }
  });
}
