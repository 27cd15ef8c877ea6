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
  /** The clouds.yaml `networks` list, as openstacksdk reads it. */
  networks: CloudNetworks;
  /** `verify`, `cacert`, `cert`, `key` (and `insecure`), files read. */
  tls: CloudTls;
  /** Things read but not honoured, for the provider to log (never secrets). */
  warnings: string[];
}

/**
 * clouds.yaml `networks` (openstacksdk's network config): which networks route externally (their
 * fixed addresses are public), which one gets floating IPs (`nat_destination`), which external
 * network they come from (`nat_source`), and which one is the interface (`default_interface`).
 * Networks are matched by name (Nova keys server addresses by network name).
 */
export interface CloudNetworks {
  external4: string[];
  external6: string[];
  /** Listed networks that do not route IPv4 externally: their addresses are private. */
  internal4: string[];
  natDestination: string | null;
  natSource: string | null;
  defaultInterface: string | null;
}

/** TLS settings of a cloud: `verify: false` (or `insecure: true`) turns the check off. */
export interface CloudTls {
  verify: boolean;
  /** PEM text of `cacert` (or of `verify` when it names a file). */
  ca: string | null;
  /** PEM text of the client certificate and key (`cert`, `key`). */
  cert: string | null;
  key: string | null;
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

/** Name of the cloud openstacksdk makes from `OS_*` variables. */
export const ENV_CLOUD = 'envvars';

/** Variables that go into `auth` (the rest become top-level keys, e.g. `OS_REGION_NAME`). */
const AUTH_VARS = new Set([
  'auth_url', 'username', 'user_id', 'password', 'project_name', 'project_id', 'tenant_name', 'tenant_id', 'user_domain_name',
  'user_domain_id', 'project_domain_name', 'project_domain_id', 'domain_name', 'domain_id', 'application_credential_id',
  'application_credential_name', 'application_credential_secret', 'token',
]);

/** Variables that only steer the lookup and never make a cloud of their own. */
const LOOKUP_VARS = new Set(['cloud', 'region_name', 'client_config_file', 'client_secure_file', 'cloud_name']);

/** The cloud openstacksdk builds from `OS_*` variables, or null when there are none. */
function envCloud(env: NodeJS.ProcessEnv): Record<string, unknown> | null {
  const top: Record<string, unknown> = {};
  const auth: Record<string, string> = {};
  let any = false;
  for (const [k, v] of Object.entries(env)) {
    // openstacksdk skips OS_TEST*, OS_STD*, OS_LOG* (CI and oslotest variables, e.g. OS_TESTBED_DIR).
    if (!k.startsWith('OS_') || /^OS_(TEST|STD|LOG)/.test(k) || v === undefined || v === '') continue;
    const key = k.slice(3).toLowerCase();
    if (!LOOKUP_VARS.has(key)) any = true;
    if (AUTH_VARS.has(key)) auth[key.replace(/^tenant_/, 'project_')] = v;
    else if (!['cloud', 'client_config_file', 'client_secure_file'].includes(key)) top[key] = v === 'true' ? true : v === 'false' ? false : v;
  }
  return any ? { ...top, auth } : null;
}

/** openstacksdk's default cloud: `OS_CLOUD`, else the `OS_*` one, else the only one in clouds.yaml. */
function defaultCloudName(clouds: Record<string, unknown>, env: NodeJS.ProcessEnv, file: string | null): string {
  if (env.OS_CLOUD) return env.OS_CLOUD;
  if (ENV_CLOUD in clouds) return ENV_CLOUD;
  const names = Object.keys(clouds);
  if (names.length === 1) return names[0];
  throw new CloudConfigError(
    `the provider names no cloud, and neither OS_CLOUD, OS_* variables nor ${file ? `${file} (${names.length} clouds)` : 'a clouds.yaml'} with exactly one cloud say which to use`,
  );
}

/**
 * The region openstacksdk picks: the cloud's `regions` (names or `{name, values}`), else its
 * `region_name`; none asked for = the first; one asked for must be among them.
 */
function pickRegion(entry: Record<string, unknown>, wanted: string | null, where: string, cloud: string): { name: string | null; values?: Record<string, unknown> } {
  let known: { name: string; values?: Record<string, unknown> }[] = [];
  if (Array.isArray(entry.regions)) {
    known = entry.regions.map((r, i) => {
      if (typeof r === 'string') return { name: r };
      if (isObject(r) && typeof r.name === 'string') return { name: r.name, values: isObject(r.values) ? r.values : undefined };
      throw new CloudConfigError(`${where}: cloud ${cloud}: regions[${i}] is neither a name nor a mapping with a name`);
    });
  } else if (typeof entry.region_name === 'string' && entry.region_name !== '') {
    known = entry.region_name.split(',').map((name) => ({ name: name.trim() }));
  }
  if (known.length === 0) return { name: wanted };
  if (!wanted) return known[0];
  const found = known.find((r) => r.name === wanted);
  if (!found) {
    throw new CloudConfigError(`${where}: region ${wanted} is not a valid region name for cloud ${cloud}; valid choices are ${known.map((r) => r.name).join(', ')} (region names are case sensitive)`);
  }
  return found;
}

/** The `networks:` list; see {@link CloudNetworks}. */
function networksOf(networks: unknown, where: string, cloud: string): CloudNetworks {
  const out: CloudNetworks = { external4: [], external6: [], internal4: [], natDestination: null, natSource: null, defaultInterface: null };
  if (networks === undefined || networks === null) return out;
  if (!Array.isArray(networks)) throw new CloudConfigError(`${where}: cloud ${cloud}: networks must be a list`);
  networks.forEach((n, i) => {
    if (!isObject(n) || typeof n.name !== 'string') throw new CloudConfigError(`${where}: cloud ${cloud}: networks[${i}] is missing required field name`);
    const ext = n.routes_externally === true;
    const ext4 = typeof n.routes_ipv4_externally === 'boolean' ? n.routes_ipv4_externally : ext;
    const ext6 = typeof n.routes_ipv6_externally === 'boolean' ? n.routes_ipv6_externally : ext;
    (ext4 ? out.external4 : out.internal4).push(n.name);
    if (ext6) out.external6.push(n.name);
    for (const [key, field] of [['nat_destination', 'natDestination'], ['nat_source', 'natSource'], ['default_interface', 'defaultInterface']] as const) {
      if (n[key] !== true) continue;
      if (out[field] !== null) throw new CloudConfigError(`${where}: cloud ${cloud}: networks[${i}]: ${key} is set on more than one network`);
      out[field] = n.name;
    }
  });
  return out;
}

/** Reads a PEM file named by the cloud entry, with a message naming the key. */
function readPem(value: unknown, key: string, where: string, cloud: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new CloudConfigError(`${where}: cloud ${cloud}: ${key} must be a file path`);
  try {
    return fs.readFileSync(value, 'utf8');
  } catch (err) {
    throw new CloudConfigError(`${where}: cloud ${cloud}: ${key} ${value}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** `verify`/`insecure`/`cacert`/`cert`/`key` as keystoneauth reads them. */
function tlsOf(entry: Record<string, unknown>, where: string, cloud: string): CloudTls {
  const insecure = entry.insecure === true || entry.insecure === 'true';
  const verify = !insecure && entry.verify !== false && entry.verify !== 'false';
  const caFile = typeof entry.verify === 'string' && !['true', 'false'].includes(entry.verify) ? entry.verify : entry.cacert;
  const cert = readPem(entry.cert, 'cert', where, cloud);
  const key = readPem(entry.key, 'key', where, cloud);
  if (key !== null && cert === null) throw new CloudConfigError(`${where}: cloud ${cloud}: key is set without cert`);
  return { verify, ca: verify ? readPem(caFile, 'cacert', where, cloud) : null, cert, key };
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
 * Nodepool re-reads clouds.yaml on every configuration load. A provider without `cloud:` gets
 * what openstacksdk picks (see {@link defaultCloudName}).
 */
export function loadCloudCredentials(cloud: string | null, regionName: string | null, env: NodeJS.ProcessEnv = process.env): CloudCredentials {
  const file = candidates('clouds', env).find((f) => fs.existsSync(f)) ?? null;
  const clouds: Record<string, unknown> = {};
  if (file) {
    const listed = readYaml(file).clouds;
    if (isObject(listed)) Object.assign(clouds, listed);
  }
  // Only a provider without `cloud:` looks at OS_* variables (openstacksdk adds them as a cloud).
  const fromEnv = cloud === null ? envCloud(env) : null;
  if (fromEnv) clouds[ENV_CLOUD] = fromEnv;
  const name = cloud ?? defaultCloudName(clouds, env, file);
  const where = name === ENV_CLOUD && fromEnv ? 'OS_* environment variables' : (file ?? 'clouds.yaml');
  if (!file && !(name === ENV_CLOUD && fromEnv)) throw new CloudConfigError(`no clouds.yaml found (set OS_CLIENT_CONFIG_FILE or use ~/.config/openstack/clouds.yaml)`);
  if (!isObject(clouds[name])) throw new CloudConfigError(`${where}: cloud ${name} is not defined`);
  let entry = clouds[name] as Record<string, unknown>;
  const secureFile = candidates('secure', env).find((f) => fs.existsSync(f));
  if (secureFile) {
    const secure = readYaml(secureFile).clouds;
    if (isObject(secure) && isObject(secure[name])) entry = deepMerge(entry, secure[name] as Record<string, unknown>);
  }
  const region = pickRegion(entry, regionName, where, name);
  if (region.values) entry = deepMerge(entry, region.values);
  const warnings: string[] = [];
  const auth = entry.auth;
  const hasAuthUrl = isObject(auth) && typeof auth.auth_url === 'string';
  if (typeof entry.profile === 'string') {
    // openstacksdk fills auth_url, regions and more from built-in vendor data; we carry none.
    if (!hasAuthUrl) throw new CloudConfigError(`${where}: cloud ${name}: profile ${entry.profile} (openstacksdk vendor defaults) is not supported; give auth.auth_url in the cloud entry`);
    warnings.push(`${where}: cloud ${name}: profile ${entry.profile} is ignored (vendor defaults are not supported); only the entry's own keys are used`);
  }
  if (!isObject(auth) || !hasAuthUrl) throw new CloudConfigError(`${where}: cloud ${name} has no auth.auth_url`);
  const authType = authTypeOf(entry.auth_type, where, name);
  const strAuth: Record<string, string> = {};
  for (const [k, v] of Object.entries(auth)) if (typeof v === 'string' || typeof v === 'number') strAuth[k] = String(v);
  const a = strAuth as unknown as CloudAuth;
  if (authType === 'password' && (!a.password || !(a.username || a.user_id))) {
    throw new CloudConfigError(`${where}: cloud ${name}: password auth needs auth.username (or user_id) and auth.password`);
  }
  if (authType === 'application-credential' && (!a.application_credential_secret || !(a.application_credential_id || a.application_credential_name))) {
    throw new CloudConfigError(`${where}: cloud ${name}: application credential auth needs its id (or name) and secret`);
  }
  if (authType === 'token' && !a.token) throw new CloudConfigError(`${where}: cloud ${name}: token auth needs auth.token`);
  const networks = networksOf(entry.networks, where, name);
  return {
    name,
    authType,
    auth: a,
    regionName: region.name,
    // Old configs say `publicURL`/`internalURL` (Keystone v2 catalog names).
    interface: typeof entry.interface === 'string' ? entry.interface.replace(/URL$/, '') : 'public',
    file: where,
    private: entry.private === true,
    defaultNetwork: networks.defaultInterface,
    networks,
    tls: tlsOf(entry, where, name),
    warnings,
  };
}
