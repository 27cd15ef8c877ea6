import fs from 'node:fs';
import { ConfigYamlError, parseConfigYaml } from '../../plugins/config-yaml';
import { configError, type ConfigError } from './config-error';

/** How a configuration file is read; tests replace the waiting. */
export interface ReadConfigOptions {
  /** Blocks for `ms` milliseconds between attempts on ENOENT (default: a real 0.5 s wait). */
  sleep?: (ms: number) => void;
  /**
   * How the launcher reads (not config-validate): a duplicated mapping key keeps its last value,
   * as PyYAML does for Nodepool's launcher, and is reported without failing the file; unknown
   * provider keys are reported and the provider runs without them.
   */
  runtime?: boolean;
}

/** A configuration file read and parsed. */
export interface ConfigDocument {
  /** The parsed YAML (null for an empty file); undefined when reading or parsing failed. */
  value?: unknown;
  /** `st_mtime_ns` taken before reading, for change detection; null when the file was not read. */
  mtimeNs: bigint | null;
  error?: ConfigError;
  /** Problems that did not stop the reading (runtime duplicate keys). */
  warnings?: ConfigError[];
}

const ATTEMPTS = 3;
const RETRY_DELAY_MS = 500;

// Synchronous on purpose: loading is synchronous so the launcher's reload check and
// config-validate stay simple, and the wait only happens while the file is missing.
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Replaces every `%(NAME)` whose NAME is an environment variable starting with `NODEPOOL_` by
 * its value, on the raw text before YAML parsing (spec §1.1 step 2). Other placeholders, and
 * `NODEPOOL_` names that are not set, stay as they are.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/%\(([^()\s]+)\)/g, (whole, name: string) => {
    const value = name.startsWith('NODEPOOL_') ? env[name] : undefined;
    return value === undefined ? whole : value;
  });
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Reads a nodepool.yaml-style file (spec §1.1 steps 1-3): on ENOENT waits 0.5 s and retries, 3
 * attempts in all (a config management tool may be replacing the file); substitutes `NODEPOOL_*`
 * variables; parses the YAML safely.
 *
 * @param file absolute path
 */
export function readConfigDocument(file: string, env: NodeJS.ProcessEnv, options: ReadConfigOptions = {}): ConfigDocument {
  const sleep = options.sleep ?? sleepSync;
  let text: string | undefined;
  let mtimeNs: bigint | null = null;
  for (let attempt = 1; text === undefined; attempt++) {
    try {
      // Stat before reading: a change between the two then shows up as a newer mtime next time.
      mtimeNs = fs.statSync(file, { bigint: true }).mtimeNs;
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (!isEnoent(err) || attempt >= ATTEMPTS) {
        const reason = isEnoent(err) ? 'file not found' : (err as Error).message;
        return { mtimeNs: null, error: configError(file, 'read', '', `cannot read the file: ${reason}`) };
      }
      sleep(RETRY_DELAY_MS);
    }
  }
  const substituted = substituteEnv(text, env);
  try {
    return { value: parseConfigYaml(substituted, file), mtimeNs };
  } catch (err) {
    if (!(err instanceof ConfigYamlError)) throw err;
    if (options.runtime && /duplicated mapping key/.test(err.message)) {
      try {
        const value = parseConfigYaml(substituted, file, { duplicateKeys: 'last' });
        const warning = configError(file, 'yaml', '', `${err.message} (the last value is used, as on Nodepool's launcher)`, err.snippet);
        return { value, mtimeNs, warnings: [{ ...warning, severity: 'warning' }] };
      } catch (second) {
        if (!(second instanceof ConfigYamlError)) throw second;
        return { mtimeNs, error: configError(file, 'yaml', '', `YAML parsing failed: ${second.message}`, second.snippet) };
      }
    }
    return { mtimeNs, error: configError(file, 'yaml', '', `YAML parsing failed: ${err.message}`, err.snippet) };
  }
}
