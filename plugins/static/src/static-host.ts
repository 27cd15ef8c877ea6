/**
 * Static host identity and the fields a host's configuration puts on its node records
 * (spec drivers-config §2.1-2.2).
 */
import type { Node, PoolConfig } from '@nodepool-ts/sdk';
import type { StaticNodeConfig } from './static-provider-schema';

/** A configured host together with the pool it belongs to. */
export interface StaticHost {
  pool: PoolConfig;
  node: StaticNodeConfig;
}

/** What Nodepool writes into `launcher` for static records. */
export const STATIC_LAUNCHER = 'static driver';

/**
 * Identity of a configured host: `(name, username, connection-port)`. Changing any part is a
 * remove plus an add, never an update (spec §2.1).
 */
export function hostTuple(n: StaticNodeConfig): string {
  return tupleKey(n.name, n.username, n['connection-port']);
}

/** Identity of a node record, matched against {@link hostTuple} (hostname is the name). */
export function nodeTuple(node: Node): string {
  return tupleKey(node.hostname, node.username, node.connection_port);
}

function tupleKey(name: unknown, username: unknown, port: unknown): string {
  // JSON keeps the three parts apart whatever characters a name holds.
  return JSON.stringify([name, username, Number(port)]);
}

/** Readable form of a tuple key for log lines: `(name, username, port)`. */
export function describeTuple(tuple: string): string {
  const [name, username, port] = JSON.parse(tuple) as [string, string, number];
  return `(${name}, ${username}, ${port})`;
}

/** The configured hosts of a provider's pools, in config order. */
export function configuredHosts(pools: readonly PoolConfig[], poolNodes: (raw: Record<string, unknown>) => StaticNodeConfig[]): StaticHost[] {
  return pools.flatMap((pool) => poolNodes(pool.raw).map((node) => ({ pool, node })));
}

/**
 * The host-derived fields that the update step compares and rewrites in place (spec §2.5 step 2):
 * labels, username, port, shell-type, connection-type, python-path, host keys.
 */
export function updatableFields(n: StaticNodeConfig, hostKeys: readonly string[]): Pick<Node, 'type' | 'username' | 'connection_port' | 'shell_type' | 'connection_type' | 'python_path' | 'host_keys'> {
  return {
    type: [...n.labels],
    username: n.username,
    connection_port: n['connection-port'],
    shell_type: n['shell-type'],
    connection_type: n['connection-type'],
    python_path: n['python-path'],
    host_keys: [...hostKeys],
  };
}

/** Whether a record's updatable fields differ from the host's (host keys compared as sets). */
export function needsUpdate(node: Node, n: StaticNodeConfig, hostKeys: readonly string[]): boolean {
  const want = updatableFields(n, hostKeys);
  const sameKeys = new Set(node.host_keys).size === new Set(want.host_keys).size && want.host_keys.every((k) => node.host_keys.includes(k));
  return !(
    sameKeys &&
    JSON.stringify(node.type) === JSON.stringify(want.type) &&
    node.username === want.username &&
    Number(node.connection_port) === want.connection_port &&
    node.shell_type === want.shell_type &&
    node.connection_type === want.connection_type &&
    node.python_path === want.python_path
  );
}
