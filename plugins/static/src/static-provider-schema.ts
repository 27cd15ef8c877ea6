/**
 * Configuration schema of the static driver (spec drivers-config §2.1). The kernel adds the
 * common provider keys (`name`, `driver`, `max-concurrency`, `priority`) and pool keys (`name`,
 * `max-servers`, `node-attributes`, `priority`).
 */
import { s, type NodepoolConfig, type ObjectSchema, type ProviderConfig } from '@nodepool-ts/sdk';

/** A static node after validation: every default filled, `labels` and `host-key` as lists. */
export interface StaticNodeConfig {
  name: string;
  labels: string[];
  username: string;
  timeout: number;
  'host-key-checking': boolean;
  'host-key': string[];
  'connection-type': string;
  'connection-port': number;
  'shell-type': string | null;
  'python-path': string;
  'max-parallel-jobs': number;
}

const node = s
  .object({
    name: s.str().required(),
    labels: s.strOrList().required(),
    username: s.str().default('zuul'),
    timeout: s.int().default(5),
    'host-key-checking': s.bool().default(true),
    'host-key': s.strOrList().default([]),
    'connection-type': s.str().default('ssh'),
    // No default here: the legacy `ssh-port` must be able to fill it (below).
    'connection-port': s.int(),
    'ssh-port': s.int(),
    'shell-type': s.str().nullable().default(null),
    'python-path': s.str().default('auto'),
    'max-parallel-jobs': s.int().default(1),
  })
  .transform((n) => {
    // Nodepool reads `connection-port`, falling back to `ssh-port`, then 22, whatever the
    // connection type (docs claim 5986 for winrm; the code does not, spec §2.1).
    n['connection-port'] = n['connection-port'] ?? n['ssh-port'] ?? 22;
    delete n['ssh-port'];
    // Nodepool splits a label string on whitespace for the pool's label set but stores it on the
    // node as one label, so `labels: "a b"` serves requests for neither. Split it everywhere.
    n.labels = (n.labels as string[]).flatMap((l) => l.split(/\s+/)).filter((l) => l !== '');
    return n;
  });

/** Schema of a static provider section: its pools and their nodes. */
export const staticProviderSchema: ObjectSchema = s.object({
  pools: s.list(s.object({ nodes: s.list(node).default([]) })).default([]),
});

/** The nodes of a validated static pool section. */
export function staticPoolNodes(pool: Record<string, unknown>): StaticNodeConfig[] {
  return (pool.nodes ?? []) as StaticNodeConfig[];
}

/** Labels a validated static pool serves: the union of its nodes' labels. */
export function staticPoolLabels(pool: Record<string, unknown>): string[] {
  return [...new Set(staticPoolNodes(pool).flatMap((n) => n.labels))];
}

/** Identity of a static host: name, username and port (spec §2.1). */
function hostIdentity(n: StaticNodeConfig): string {
  return `(${n.name}, ${n.username}, ${n['connection-port']})`;
}

/**
 * Load-time checks: a host identity `(name, username, connection-port)` must be unique in the
 * whole configuration (spec §2.1). A duplicate is reported on the later provider in config
 * order, so the first definition keeps working.
 */
export function staticCrossCheck(provider: ProviderConfig, config: NodepoolConfig): string[] {
  const seen = new Map<string, string>();
  for (const other of config.providers.values()) {
    if (other === provider || other.name === provider.name) break;
    if (other.driver !== 'static') continue;
    for (const pool of other.pools) {
      for (const n of staticPoolNodes(pool.raw)) seen.set(hostIdentity(n), `provider ${other.name} pool ${pool.name}`);
    }
  }
  const errors: string[] = [];
  provider.pools.forEach((pool, p) => {
    staticPoolNodes(pool.raw).forEach((n, i) => {
      const id = hostIdentity(n);
      const where = seen.get(id);
      if (where) errors.push(`pools[${p}].nodes[${i}]: node ${id} is already defined in ${where}`);
      else seen.set(id, `provider ${provider.name} pool ${pool.name}`);
    });
  });
  return errors;
}
