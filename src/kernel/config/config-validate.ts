import type { ProviderDriver } from '../../plugins/driver';
import { formatConfigError, type ConfigError } from './config-error';
import { loadNodepoolConfig } from './nodepool-config-loader';
import type { ReadConfigOptions } from './config-document';

/** Options of {@link runConfigValidate}. */
export interface ConfigValidateOptions {
  /** Path of nodepool.yaml, as the user gave it. */
  file: string;
  /** Path of the secure file, if any (Nodepool's config-validate ignores it; we check it too). */
  secure?: string | null;
  drivers: readonly ProviderDriver[];
  /**
   * Plugins the kernel could not discover or load (messages name their folders). Each is an
   * error: a provider of a driver such a plugin would have contributed cannot run.
   */
  pluginFailures?: readonly { dir: string; message: string }[];
  /** Receives each output line; `level` is `info` for the first line and `error` for problems. */
  log: (line: string, level?: 'info' | 'error') => void;
  /** Environment for `%(NODEPOOL_*)` substitution (default: the process environment). */
  env?: NodeJS.ProcessEnv;
  /** Test hooks for reading. */
  read?: ReadConfigOptions;
}

/**
 * `nodepool config-validate` (spec §1.8): loads the configuration without connecting to
 * ZooKeeper or any cloud and logs `validating <path>`, then every problem, grouped like
 * Nodepool's stages (read and YAML errors, whose message starts `YAML parsing failed`; then
 * `Schema validation failed` and the schema errors; then the cross-check errors). Plugins that
 * failed to load come first, one error each (`plugin not loaded: ...`). Unlike Nodepool it reports all errors, not the first schema error only.
 *
 * @returns the exit code: 1 if anything is wrong, else 0
 */
export function runConfigValidate(options: ConfigValidateOptions): number {
  const { log } = options;
  log(`validating ${options.file}`, 'info');
  const pluginFailures = options.pluginFailures ?? [];
  for (const failure of pluginFailures) log(`plugin not loaded: ${failure.message}`, 'error');
  const { errors } = loadNodepoolConfig(options.file, options.secure ?? null, options.drivers, options.env ?? process.env, options.read);
  const stage = (s: ConfigError['stage']): ConfigError[] => errors.filter((e) => e.stage === s);
  const emit = (e: ConfigError): void => {
    log(formatConfigError(e), 'error');
    if (e.detail) for (const line of e.detail.split('\n')) log(line, 'error');
  };
  stage('read').forEach(emit);
  stage('yaml').forEach(emit);
  if (stage('schema').length > 0) log('Schema validation failed', 'error');
  stage('schema').forEach(emit);
  stage('check').forEach(emit);
  return errors.length > 0 || pluginFailures.length > 0 ? 1 : 0;
}
