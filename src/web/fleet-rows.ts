/**
 * Our own listings beside Nodepool's (not in Nodepool's webapp): `/launcher-list` (the launcher
 * component records, with the pools each host registered) and `/provider-list` (one row per
 * provider pool: who serves it, its labels, paused flag, nodes by state and quota used against
 * the pool's caps). Pure functions over what the web app's cache holds.
 *
 * Caps (`max-servers`, `max-cores`, ...) are not part of the pool component record (spec §2.3),
 * so they come from this launcher's own nodepool.yaml; a pool it does not configure has none.
 */
import type { ComponentRecord, PoolComponentRecord } from '../zk/models/component';
import type { Node } from '../zk/models/node';
import type { ProviderConfig } from '../plugins/nodepool-config';
import type { StatusColumn, StatusRow } from '../status/index';

/** Columns of `/launcher-list` (text); JSON rows carry every key. */
export const LAUNCHER_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'hostname', header: 'Hostname' },
  { key: 'state', header: 'State' },
  { key: 'version', header: 'Version' },
  { key: 'pools', header: 'Pools' },
  { key: 'provider_states', header: 'Provider States' },
];

/** Columns of `/provider-list` (text); JSON rows carry every key. */
export const PROVIDER_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'provider', header: 'Provider' },
  { key: 'pool', header: 'Pool' },
  { key: 'launchers', header: 'Launchers' },
  { key: 'labels', header: 'Labels' },
  { key: 'paused', header: 'Paused' },
  { key: 'nodes', header: 'Nodes' },
  { key: 'max_servers', header: 'Max Servers' },
  { key: 'provider_states', header: 'Provider States' },
];

/** A component record with the name of its znode (`<hostname><seq10>`). */
export interface NamedComponent<T extends ComponentRecord = ComponentRecord> {
  name: string;
  value: T;
}

/** Pool keys that cap a resource, besides `max-servers` (drivers-config: pool quota). */
const POOL_CAPS: Readonly<Record<string, string>> = {
  'max-cores': 'cores',
  'max-ram': 'ram',
  'max-volumes': 'volumes',
  'max-volume-gb': 'volume-gb',
};

/** One provider's state as a nodepool-ts launcher publishes it (key `nodepool_ts_providers`). */
interface PublishedProviderState {
  name: string;
  driver: string | null;
  state: string;
  error: string | null;
}

/** The per-provider states a nodepool-ts launcher adds to its record; [] for other launchers. */
function publishedProviders(record: ComponentRecord): PublishedProviderState[] {
  const raw = record.nodepool_ts_providers;
  if (!Array.isArray(raw)) return [];
  const out: PublishedProviderState[] = [];
  for (const p of raw) {
    if (!p || typeof p !== 'object') continue;
    const { name, driver, state, error } = p as Record<string, unknown>;
    if (typeof name !== 'string' || typeof state !== 'string') continue;
    out.push({ name, driver: typeof driver === 'string' ? driver : null, state, error: typeof error === 'string' ? error : null });
  }
  return out;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `/launcher-list` rows, by hostname then znode name. */
export function launcherRows(launchers: readonly NamedComponent[], pools: readonly NamedComponent<PoolComponentRecord>[]): StatusRow[] {
  const poolsByHost = new Map<string, Set<string>>();
  for (const { value: pool } of pools) {
    const set = poolsByHost.get(pool.hostname) ?? new Set<string>();
    set.add(`${pool.provider_name}/${pool.name}`);
    poolsByHost.set(pool.hostname, set);
  }
  return [...launchers]
    .sort((a, b) => byName(a.value.hostname, b.value.hostname) || byName(a.name, b.name))
    .map(({ name, value }) => {
      const providers = publishedProviders(value);
      return {
        hostname: value.hostname,
        state: value.state,
        version: value.version,
        pools: [...(poolsByHost.get(value.hostname) ?? [])].sort(byName),
        provider_states: Object.fromEntries(providers.map((p) => [p.name, p.state])),
        providers,
        component: name,
      };
    });
}

interface PoolAccumulator {
  provider: string;
  pool: string;
  launchers: Set<string>;
  labels: Set<string>;
  priority: number | null;
  paused: boolean;
  registered: boolean;
  nodes: number;
  states: Map<string, number>;
  used: Map<string, number>;
}

/** The pool's caps from the local config; undefined when this launcher does not configure it. */
function poolCaps(providers: ReadonlyMap<string, ProviderConfig> | undefined, provider: string, pool: string): Record<string, number> | undefined {
  const config = providers?.get(provider)?.pools.find((p) => p.name === pool);
  if (!config) return undefined;
  const caps: Record<string, number> = {};
  if (Number.isFinite(config.maxServers)) caps.instances = config.maxServers;
  for (const [key, resource] of Object.entries(POOL_CAPS)) {
    const v = config.raw[key];
    if (typeof v === 'number') caps[resource] = v;
  }
  const extra = config.raw['max-resources'];
  if (extra && typeof extra === 'object') {
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) if (typeof v === 'number') caps[k] = v;
  }
  return caps;
}

const sortedObject = (m: ReadonlyMap<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => byName(a[0], b[0])));

/**
 * `/provider-list` rows, by provider and pool: every registered pool, every pool of the local
 * config, and every provider/pool that nodes name (a removed provider's leftovers show too).
 * `quota_used` sums the nodes' recorded `resources`, with `instances` = the node count (every
 * node in ZooKeeper counts against a pool, whatever its state, as the launcher counts them).
 */
export function providerRows(
  pools: readonly NamedComponent<PoolComponentRecord>[],
  nodes: readonly Node[],
  launchers: readonly NamedComponent[],
  localProviders: ReadonlyMap<string, ProviderConfig> | undefined,
): StatusRow[] {
  const acc = new Map<string, PoolAccumulator>();
  const get = (provider: string, pool: string): PoolAccumulator => {
    const key = `${provider}\u0000${pool}`;
    let a = acc.get(key);
    if (!a) {
      a = { provider, pool, launchers: new Set(), labels: new Set(), priority: null, paused: false, registered: false, nodes: 0, states: new Map(), used: new Map() };
      acc.set(key, a);
    }
    return a;
  };
  for (const { value } of pools) {
    const a = get(value.provider_name, value.name);
    a.registered = true;
    a.launchers.add(value.hostname);
    for (const label of value.supported_labels) a.labels.add(label);
    a.priority = a.priority === null ? value.priority : Math.min(a.priority, value.priority);
    a.paused ||= value.paused;
  }
  for (const provider of localProviders?.values() ?? []) {
    for (const pool of provider.pools) {
      const a = get(provider.name, pool.name);
      if (!a.registered) for (const label of pool.labels) a.labels.add(label);
    }
  }
  for (const node of nodes) {
    const a = get(node.provider ?? '', node.pool ?? '');
    a.nodes++;
    a.states.set(node.state, (a.states.get(node.state) ?? 0) + 1);
    for (const [k, v] of Object.entries(node.resources ?? {})) {
      if (k !== 'instances' && typeof v === 'number' && Number.isFinite(v)) a.used.set(k, (a.used.get(k) ?? 0) + v);
    }
  }
  const states = new Map<string, Map<string, string>>();
  for (const { value } of launchers) {
    for (const p of publishedProviders(value)) {
      const m = states.get(p.name) ?? new Map<string, string>();
      m.set(value.hostname, p.state);
      states.set(p.name, m);
    }
  }
  return [...acc.values()]
    .sort((a, b) => byName(a.provider, b.provider) || byName(a.pool, b.pool))
    .map((a) => {
      const caps = poolCaps(localProviders, a.provider, a.pool);
      a.used.set('instances', a.nodes);
      const providerStates = states.get(a.provider) ?? new Map<string, string>();
      return {
        provider: a.provider,
        pool: a.pool,
        launchers: [...a.launchers].sort(byName),
        labels: [...a.labels].sort(byName),
        priority: a.priority,
        paused: a.paused,
        registered: a.registered,
        nodes: a.nodes,
        node_states: sortedObject(a.states),
        max_servers: caps?.instances ?? null,
        quota_used: sortedObject(a.used),
        quota_limits: caps ? sortedObject(new Map(Object.entries(caps))) : null,
        // Per provider, from every launcher that reports it (a failed provider registers no pools).
        provider_states: Object.fromEntries([...providerStates].sort((x, y) => byName(x[0], y[0]))),
      };
    });
}
