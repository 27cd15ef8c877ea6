/**
 * The parsed `nodepool.yaml`, as the engine and drivers see it.
 * Keys keep Nodepool's spelling where they are read from YAML; derived values are camelCase.
 */

/** A top-level `labels` entry. */
export interface LabelConfig {
  /** Label name, as requested in `node_types`. */
  name: string;
  /** Ready nodes to keep available (0 = none). */
  'min-ready': number;
  /** Seconds a ready, unallocated node may live before it is deleted (0 = forever). */
  'max-ready-age': number;
}

/** A top-level `diskimages` entry (launchers only need the connection defaults). */
export interface DiskImageConfig {
  /** Diskimage name. */
  name: string;
  /** Login user of nodes booted from it (default `zuul`). */
  username: string;
  /** Python interpreter path for Ansible (default `auto`). */
  'python-path': string;
  /** Shell type for Ansible, or null for the default. */
  'shell-type': string | null;
  /** Builds paused (the builder skips it). */
  pause: boolean;
  [key: string]: unknown;
}

/** One pool of a provider, normalized by the kernel from the driver's pool section. */
export interface PoolConfig {
  /** Pool name, unique within its provider. */
  name: string;
  /** Pool `max-servers`; Infinity when unset. */
  maxServers: number;
  /** Effective priority: pool, else provider, else 100. */
  priority: number;
  /** Copied into each node's `attributes`. */
  nodeAttributes: Record<string, unknown> | null;
  /** Labels this pool serves. */
  labels: string[];
  /** The pool section as validated by the driver schema (defaults filled). */
  raw: Record<string, unknown>;
}

/** One provider section, validated by its driver's schema. */
export interface ProviderConfig {
  /** Provider name, unique in the file. */
  name: string;
  /** The `driver:` value that selected the `ProviderDriver`. */
  driver: string;
  /** `-1` = unlimited, `0` = accept nothing. */
  maxConcurrency: number;
  /** Provider `priority` (lower wins), null when unset; pools inherit it. */
  priority: number | null;
  /** The pools, normalized. */
  pools: PoolConfig[];
  /** The whole provider section with defaults filled. */
  raw: Record<string, unknown>;
  /** Where it came from, for messages: `<file>: providers[2]`. */
  location: string;
}

/** `tenant-resource-limits` entry, keys mapped to resource names (`instances`, `cores`, ...). */
export interface TenantLimits {
  /** Zuul tenant the limits apply to. */
  tenantName: string;
  /** Maximum of each resource over all the tenant's nodes. */
  limits: Record<string, number>;
}

/** ZooKeeper connection settings as written in nodepool.yaml. */
export interface ZooKeeperServerConfig {
  /** Host name or address. */
  host: string;
  /** Client port (default 2181). */
  port: number;
  /** Chroot path, or null. */
  chroot: string | null;
}

/** The whole launcher configuration. */
export interface NodepoolConfig {
  /** Absolute path of the main file (and secure file, if any). */
  file: string;
  /** Absolute path of the secure file, or null. */
  secureFile: string | null;
  /** Top-level `labels`, by name. */
  labels: Map<string, LabelConfig>;
  /** Top-level `diskimages`, by name. */
  diskimages: Map<string, DiskImageConfig>;
  /** Valid providers, by name (invalid ones are left out and reported). */
  providers: Map<string, ProviderConfig>;
  /** `tenant-resource-limits`, by tenant. */
  tenantLimits: Map<string, TenantLimits>;
  /** Seconds; Infinity when unset or <= 0. */
  maxHoldAge: number;
  /** The `webapp` section. */
  webapp: { port: number; listenAddress: string };
  /** `zookeeper-servers`. */
  zookeeperServers: ZooKeeperServerConfig[];
  /** `zookeeper-tls` file paths, or null. */
  zookeeperTls: { cert: string; key: string; ca: string } | null;
  /** Seconds. */
  zookeeperTimeout: number;
}

/** Injection token for the current {@link NodepoolConfig} (a getter: it changes on reload). */
export const NodepoolConfigSource: unique symbol = Symbol.for('nodepool-ts.NodepoolConfigSource');

/** Gives the current configuration; the engine re-reads it on every loop. */
export interface NodepoolConfigSource {
  /** The configuration in force now. */
  current(): NodepoolConfig;
}
