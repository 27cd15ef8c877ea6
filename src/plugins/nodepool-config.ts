/**
 * The parsed `nodepool.yaml` (spec drivers-config §1), as the engine and drivers see it.
 * Keys keep Nodepool's spelling where they are read from YAML; derived values are camelCase.
 */

/** A top-level `labels` entry. */
export interface LabelConfig {
  name: string;
  'min-ready': number;
  'max-ready-age': number;
}

/** A top-level `diskimages` entry (launchers only need the connection defaults). */
export interface DiskImageConfig {
  name: string;
  username: string;
  'python-path': string;
  'shell-type': string | null;
  pause: boolean;
  [key: string]: unknown;
}

/** One pool of a provider, normalized by the kernel from the driver's pool section. */
export interface PoolConfig {
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
  name: string;
  driver: string;
  /** `-1` = unlimited, `0` = accept nothing (spec §1.4). */
  maxConcurrency: number;
  priority: number | null;
  pools: PoolConfig[];
  /** The whole provider section with defaults filled. */
  raw: Record<string, unknown>;
  /** Where it came from, for messages: `<file>: providers[2]`. */
  location: string;
}

/** `tenant-resource-limits` entry, keys mapped to resource names (`instances`, `cores`, ...). */
export interface TenantLimits {
  tenantName: string;
  limits: Record<string, number>;
}

/** ZooKeeper connection settings as written in nodepool.yaml. */
export interface ZooKeeperServerConfig {
  host: string;
  port: number;
  chroot: string | null;
}

/** The whole launcher configuration. */
export interface NodepoolConfig {
  /** Absolute path of the main file (and secure file, if any). */
  file: string;
  secureFile: string | null;
  labels: Map<string, LabelConfig>;
  diskimages: Map<string, DiskImageConfig>;
  providers: Map<string, ProviderConfig>;
  tenantLimits: Map<string, TenantLimits>;
  /** Seconds; Infinity when unset or <= 0. */
  maxHoldAge: number;
  webapp: { port: number; listenAddress: string };
  zookeeperServers: ZooKeeperServerConfig[];
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
