import fs from 'node:fs';
import path from 'node:path';
import convict from 'convict';
import yaml from 'js-yaml';
import type { LauncherSettings } from '../../plugins/launcher-settings';
import { BOOLEAN_KEYS, PATH_KEYS, launcherSettingsSchema } from './launcher-settings-schema';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
type Raw = Record<string, unknown>;

/** Where {@link loadLauncherSettings} takes values from; nothing is read from the process itself. */
export interface LauncherSettingsSources {
  /** Command-line arguments (without node and script), e.g. `['--zk-hosts', 'zk1:2281']`. */
  args?: string[];
  /** Environment variables (`NODEPOOL_TS_*`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Settings file (YAML or JSON, keys as in {@link LauncherSettings}); else `--settings <path>`
   * from `args`, else `NODEPOOL_TS_SETTINGS` from `env`. Relative paths in it are resolved
   * against its folder.
   */
  file?: string;
  /** Values that win over everything else (tests, embedding programs). */
  overrides?: DeepPartial<LauncherSettings>;
}

/** Launcher settings are invalid; {@link issues} lists each problem with the key and its source. */
export class LauncherSettingsError extends Error {
  override readonly name = 'LauncherSettingsError';

  /** @param issues one line per problem, e.g. `web.port (from env NODEPOOL_TS_WEB_PORT): must be ...` */
  constructor(readonly issues: string[]) {
    super(`invalid launcher settings:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  }
}

function isMapping(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Leaves of a nested object as dotted keys; arrays are leaves. */
function flatten(value: Raw, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([k, v]) => (isMapping(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]]));
}

function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
    if (args[i] === `--${name}` && i + 1 < args.length) return args[i + 1];
  }
  return undefined;
}

function flagGiven(args: readonly string[], name: string): boolean {
  return args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `--no-${name}`);
}

function readSettingsFile(file: string): Raw {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'), { filename: file });
  } catch (err) {
    throw new LauncherSettingsError([`settings file ${file}: ${(err as Error).message}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isMapping(doc)) throw new LauncherSettingsError([`settings file ${file}: expected a mapping of settings`]);
  // Relative paths in a settings file mean "next to this file", not "next to the cwd".
  const base = path.dirname(path.resolve(file));
  const resolve = (p: unknown): unknown => (typeof p === 'string' && p !== '' ? path.resolve(base, p) : p);
  const out = structuredClone(doc);
  for (const key of PATH_KEYS) {
    const parts = key.split('.');
    const parent = parts.slice(0, -1).reduce<unknown>((o, k) => (isMapping(o) ? o[k] : undefined), out);
    const leaf = parts[parts.length - 1];
    if (isMapping(parent) && leaf in parent) parent[leaf] = Array.isArray(parent[leaf]) ? (parent[leaf] as unknown[]).map(resolve) : resolve(parent[leaf]);
  }
  return out;
}

// convict reads any boolean string except "false" as true; take the usual spellings instead,
// and report anything else (convict would have read it as true).
function normalizeBooleans(env: NodeJS.ProcessEnv, names: Map<string, string>, issues: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of BOOLEAN_KEYS) {
    const name = names.get(key);
    const value = name ? out[name] : undefined;
    if (!name || value === undefined) continue;
    if (/^(?:1|true|yes|on)$/i.test(value)) out[name] = 'true';
    else if (/^(?:0|false|no|off)$/i.test(value)) out[name] = 'false';
    else {
      issues.push(`${key} (from env ${name}): must be true/false, yes/no, on/off or 1/0: value was ${JSON.stringify(value)}`);
      delete out[name];
    }
  }
  return out;
}

/**
 * Loads {@link LauncherSettings} from, in rising precedence: defaults, the settings file,
 * `NODEPOOL_TS_*` environment variables, command-line flags, `overrides`. Reads only what it is
 * given (no `process.env`/`process.argv`), so kernels in one process can differ.
 *
 * @throws {@link LauncherSettingsError} listing every invalid or unknown key and where it came from
 */
export function loadLauncherSettings(sources: LauncherSettingsSources = {}): LauncherSettings {
  const args = sources.args ?? [];
  const schema = launcherSettingsSchema();
  const leaves = new Map(flatten(schema as unknown as Raw).filter(([k]) => k.endsWith('.env') || k.endsWith('.arg')).map(([k, v]) => [k, v as string]));
  const envName = new Map([...leaves].filter(([k]) => k.endsWith('.env')).map(([k, v]) => [k.slice(0, -4), v]));
  const argName = new Map([...leaves].filter(([k]) => k.endsWith('.arg')).map(([k, v]) => [k.slice(0, -4), v]));
  const early: string[] = [];
  const env = normalizeBooleans(sources.env ?? {}, envName, early);
  const file = sources.file ?? flagValue(args, 'settings') ?? env.NODEPOOL_TS_SETTINGS;
  const fromFile = file ? readSettingsFile(file) : {};
  const overrides = flatten((sources.overrides ?? {}) as Raw);
  const fileKeys = new Set(flatten(fromFile).map(([k]) => k));

  const sourceOf = (key: string): string => {
    if (overrides.some(([k]) => k === key)) return 'overrides';
    const arg = argName.get(key);
    if (arg && flagGiven(args, arg)) return `flag --${arg}`;
    const name = envName.get(key);
    if (name && env[name] !== undefined) return `env ${name}`;
    if (fileKeys.has(key) || [...fileKeys].some((k) => k.startsWith(`${key}.`))) return `file ${file}`;
    return 'default';
  };
  const describe = (line: string): string => {
    const key = /^configuration param '([^']+)'/.exec(line)?.[1] ?? [...envName.keys()].find((k) => line.startsWith(`${k}: `));
    if (!key) return line;
    const rest = line.startsWith(`${key}: `) ? line.slice(key.length + 2) : line;
    return `${key} (from ${sourceOf(key)}): ${rest.replace(/^ +/, '')}`;
  };

  let settings: LauncherSettings | undefined;
  const issues = [...early];
  try {
    const config = convict<LauncherSettings>(schema, { env, args });
    config.load(fromFile);
    for (const [key, value] of overrides) config.set(key, value);
    config.validate({ allowed: 'strict' });
    settings = config.getProperties();
  } catch (err) {
    issues.push(...(err as Error).message.split('\n').filter((l) => l.trim() !== '').map(describe));
  }
  if (!settings || issues.length > 0) throw new LauncherSettingsError(issues);
  const dirs = settings.plugins.dirs.map((d) => String(d).trim()).filter((d) => d !== '');
  return { ...settings, plugins: { ...settings.plugins, dirs } };
}
