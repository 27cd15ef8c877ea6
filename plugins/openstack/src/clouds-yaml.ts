/**
 * Credentials from `clouds.yaml` (spec drivers-config §5.1 `cloud`), found where openstacksdk
 * looks: `OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
 * `/etc/openstack/clouds.yaml`; secrets may live in a `secure.yaml` beside it (or
 * `OS_CLIENT_SECURE_FILE`), deep-merged over the cloud entry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';

/** Keystone auth settings of a cloud entry (the keys openstacksdk uses). */
export interface CloudAuth {
  auth_url: string;
  username?: string;
  user_id?: string;
  password?: string;
  project_name?: string;
  project_id?: string;
  user_domain_name?: string;
  user_domain_id?: string;
  project_domain_name?: string;
  project_domain_id?: string;
  /** Default for both user and project domain (openstacksdk's `domain_name`). */
  domain_name?: string;
  domain_id?: string;
  application_credential_id?: string;
  application_credential_name?: string;
  application_credential_secret?: string;
  token?: string;
}

/** One resolved cloud: what the client needs to authenticate and pick endpoints. */
export interface CloudCredentials {
  /** Entry name in clouds.yaml. */
  name: string;
  /** `password` (also `v3password`), `v3applicationcredential` or `token`/`v3token`. */
  authType: 'password' | 'application-credential' | 'token';
  auth: CloudAuth;
  /** Region to pick endpoints in (provider `region-name` overrides the cloud's). */
  regionName: string | null;
  /** Catalog interface: `public` (default), `internal` or `admin`. */
  interface: string;
  /** The file the entry came from, for messages. */
  file: string;
  /** clouds.yaml `private`: servers are reached on their private address, never given a floating IP. */
  private: boolean;
  /** Name of the clouds.yaml `networks` entry with `default_interface: true`, if any. */
  defaultNetwork: string | null;
}

/** clouds.yaml is missing, unreadable, or has no usable entry. */
export class CloudConfigError extends Error {
  override readonly name = 'CloudConfigError';
}

/** Where openstacksdk looks for a config file called `base` (first existing one wins). */
function candidates(base: 'clouds' | 'secure', env: NodeJS.ProcessEnv): string[] {
  const envName = base === 'clouds' ? 'OS_CLIENT_CONFIG_FILE' : 'OS_CLIENT_SECURE_FILE';
  const explicit = env[envName];
  const dirs = [process.cwd(), path.join(env.HOME ?? os.homedir(), '.config', 'openstack'), '/etc/openstack'];
  const files = dirs.flatMap((d) => [`${base}.yaml`, `${base}.yml`].map((f) => path.join(d, f)));
  return explicit ? [explicit, ...files] : files;
}

function readYaml(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    // js-yaml puts a snippet of the file in its message, which for clouds.yaml shows the lines
    // around the error: passwords and secrets (found by the security review). Position only.
    if (!(err instanceof yaml.YAMLException)) throw err;
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    throw new CloudConfigError(`${file}: YAML parsing failed: ${err.reason}${at}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new CloudConfigError(`${file}: not a YAML mapping`);
  return doc as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Merges `over` into `base` recursively (secure.yaml over clouds.yaml). */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function authTypeOf(value: unknown, file: string, cloud: string): CloudCredentials['authType'] {
  switch (value ?? 'password') {
    case 'password':
    case 'v3password':
      return 'password';
    case 'v3applicationcredential':
    case 'application_credential':
      return 'application-credential';
    case 'token':
    case 'v3token':
      return 'token';
    default:
      throw new CloudConfigError(`${file}: cloud ${cloud}: unsupported auth_type ${String(value)}`);
  }
}

/**
 * Resolves cloud `cloud` from the standard locations. Re-reads the files on every call, as
 * Nodepool re-reads clouds.yaml on every configuration load.
 */
export function loadCloudCredentials(cloud: string, regionName: string | null, env: NodeJS.ProcessEnv = process.env): CloudCredentials {
  const file = candidates('clouds', env).find((f) => fs.existsSync(f));
  if (!file) throw new CloudConfigError(`no clouds.yaml found (set OS_CLIENT_CONFIG_FILE or use ~/.config/openstack/clouds.yaml)`);
  const clouds = readYaml(file).clouds;
  if (!isObject(clouds) || !isObject(clouds[cloud])) throw new CloudConfigError(`${file}: cloud ${cloud} is not defined`);
  let entry = clouds[cloud] as Record<string, unknown>;
  const secureFile = candidates('secure', env).find((f) => fs.existsSync(f));
  if (secureFile) {
    const secure = readYaml(secureFile).clouds;
    if (isObject(secure) && isObject(secure[cloud])) entry = deepMerge(entry, secure[cloud] as Record<string, unknown>);
  }
  const auth = entry.auth;
  if (!isObject(auth) || typeof auth.auth_url !== 'string') throw new CloudConfigError(`${file}: cloud ${cloud} has no auth.auth_url`);
  const authType = authTypeOf(entry.auth_type, file, cloud);
  const strAuth: Record<string, string> = {};
  for (const [k, v] of Object.entries(auth)) if (typeof v === 'string' || typeof v === 'number') strAuth[k] = String(v);
  const a = strAuth as unknown as CloudAuth;
  if (authType === 'password' && (!a.password || !(a.username || a.user_id))) {
    throw new CloudConfigError(`${file}: cloud ${cloud}: password auth needs auth.username (or user_id) and auth.password`);
  }
  if (authType === 'application-credential' && (!a.application_credential_secret || !(a.application_credential_id || a.application_credential_name))) {
    throw new CloudConfigError(`${file}: cloud ${cloud}: application credential auth needs its id (or name) and secret`);
  }
  if (authType === 'token' && !a.token) throw new CloudConfigError(`${file}: cloud ${cloud}: token auth needs auth.token`);
  const cloudRegion = typeof entry.region_name === 'string' ? entry.region_name : null;
  return {
    name: cloud,
    authType,
    auth: a,
    regionName: regionName ?? cloudRegion,
    // Old configs say `publicURL`/`internalURL` (Keystone v2 catalog names).
    interface: typeof entry.interface === 'string' ? entry.interface.replace(/URL$/, '') : 'public',
    file,
    private: entry.private === true,
    defaultNetwork: defaultNetworkOf(entry.networks),
  };
}

/** The `networks:` entry marked `default_interface: true` (openstacksdk's interface network). */
function defaultNetworkOf(networks: unknown): string | null {
  if (!Array.isArray(networks)) return null;
  const found = networks.find((n): n is { name: string } => isObject(n) && n.default_interface === true && typeof n.name === 'string');
  return found?.name ?? null;
}
