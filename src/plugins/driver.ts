import type { LauncherFleet } from './launcher-fleet';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { NodeLaunchSettings } from './node-launch-settings';
import type { NodepoolConfig, PoolConfig, ProviderConfig } from './nodepool-config';
import type { QuotaInformation } from './quota';
import type { ObjectSchema } from './config-schema';
import type { InstantLaunchBatch } from './instant-launch';
import type { CreateRequest, Instance, Resource, StateMachine } from './state-machine';
import type { Tracer } from './tracer';
import type { ZooKeeper } from './zookeeper';
import type { Node, NodeLaunchRecord } from './models/node';
import type { NodeRequest } from './models/node-request';

/** Kernel services a provider gets when it is created. */
export interface ProviderContext {
  /** The kernel's ZooKeeper session (Nodepool's records and locks). */
  readonly zk: ZooKeeper;
  /** Logger for the provider. */
  readonly logger: Logger;
  /** Tracer for the provider's own spans. */
  readonly tracer: Tracer;
  /** The kernel's metric registry. */
  readonly metrics: Metrics;
  /** The whole configuration the provider was created from. */
  readonly config: NodepoolConfig;
  /**
   * The other launchers on this ZooKeeper (Python ones during a migration). Absent when the
   * provider runs outside an engine (tests, tools): it may then act as if it were alone.
   */
  readonly fleet?: LauncherFleet;
}

/**
 * A running provider: one `providers:` entry of nodepool.yaml. Shaped after Nodepool's
 * state-machine adapter: drivers that launch instances implement the
 * create/delete machines; drivers that hand out existing hosts (static) set `launches: false`
 * and manage their node records themselves.
 */
export interface Provider {
  /** The provider's `name` in nodepool.yaml. */
  readonly name: string;
  /** The provider's configuration. */
  readonly config: ProviderConfig;
  /** False for providers that only hand out registered nodes (never launch or pause at quota). */
  readonly launches: boolean;

  /** Connects, registers, recovers state. Called before the engine uses the provider. */
  start(): Promise<void>;
  /** Stops background work; in-flight state machines are left to the engine. */
  stop(): Promise<void>;

  /** Why the pool must decline this request outright, or undefined to consider it. */
  declineReason?(request: NodeRequest, pool: PoolConfig): string | undefined;
  /** Whether the label's image is available, so min-ready and requests can use it. */
  labelReady?(label: string, pool: PoolConfig): boolean;
  /**
   * Why this provider's pools take no request right now, or undefined. While set they neither
   * accept nor decline (the request stays for other launchers): metastatic steps back so while
   * a launcher that ignores its allocation lock serves the same provider.
   */
  standingBack?(): string | undefined;
  /**
   * Whether this launcher may delete the node now (default yes). False leaves it to another
   * launcher of the provider: the static provider does so while a Python launcher serves it, so
   * the launcher that re-registers the slot is the one that freed it.
   */
  mayDelete?(node: Node): boolean;
  /** A ready node is about to be reused: false skips it (e.g. a static host that went away). */
  isNodeUsable?(node: Node): Promise<boolean>;

  /**
   * Launch settings of one label of a pool (`launch-retries`, `launch-timeout`, `boot-timeout`,
   * `host-key-checking`, connection defaults, image); build them with `launchSettings()`.
   * Without it the engine uses `FALLBACK_LAUNCH_SETTINGS`: Nodepool's timeouts, no nodescan.
   */
  launchSettings?(label: string, pool: PoolConfig): NodeLaunchSettings;
  /**
   * Opens a batch of instant launches for one pass of `pool`: instances this provider can hand
   * out at once, without a create state machine or nodescan (metastatic: free slots on backing
   * nodes it holds, while the label needs no host-key check). For each request it can serve
   * whole, the engine then creates the nodes and fulfils the request in one transaction, as it
   * fulfils a request from ready nodes, with the reservation's checks in that transaction.
   * Undefined when nothing can be had instantly now. The batch is ended once the pass's
   * fulfilments are done; the provider may hold an exclusive allocation lock meanwhile.
   */
  beginInstantLaunches?(pool: PoolConfig): Promise<InstantLaunchBatch | undefined>;
  /** Starts creating an instance for a node. */
  getCreateStateMachine?(request: CreateRequest, log: Logger): StateMachine;
  /**
   * Rebuilds the create state machine of a launch a dead launcher left at `saved` (stored on the
   * node each time the machine's state or external id changed), so the launcher that takes the
   * node over goes on from there instead of deleting the instance. Return undefined when that
   * state cannot be resumed: the node is then deleted, as without this method. The machine must
   * never create a second instance for the node; one that finds the instance gone or broken
   * throws, and the engine deletes the node.
   */
  resumeCreateStateMachine?(node: Node, saved: NodeLaunchRecord, log: Logger): StateMachine | undefined;
  /**
   * Starts deleting an instance by its cloud id. Also called again for a delete a dead launcher
   * left half done (the node stays `deleting` with its external id), so it must be safe to repeat.
   */
  getDeleteStateMachine?(externalId: unknown, log: Logger): StateMachine;
  /**
   * Lists this provider's instances (for leak detection and unmanaged quota), each with the
   * metadata its create machine stored: the `leakTags()` the engine passes in the create request.
   */
  listInstances?(): AsyncIterable<Instance> | Promise<Instance[]>;
  /**
   * Images in the cloud that a Nodepool builder uploaded (OpenStack: tagged `nodepool_build_id`),
   * for `nodepool alien-image-list`. Images the cloud offers itself are left out.
   */
  listManagedImages?(): Promise<{ id: string; name: string }[]>;
  /** Lists leak-prone resources other than instances. */
  listResources?(): AsyncIterable<Resource> | Promise<Resource[]>;
  /** Deletes a leaked resource. */
  deleteResource?(resource: Resource): Promise<void>;
  /**
   * The nodescan of a launched node failed (before the attempt is cleaned up). Best effort, errors
   * are logged: OpenStack logs the server console when the label has `console-log`; metastatic
   * retires the backing node so the retry lands elsewhere (Nodepool's `notifyNodescanFailure`).
   */
  nodescanFailed?(node: Node, label: string, pool: PoolConfig, log: Logger): Promise<void>;
  /**
   * True when this node's instance goes with its record, so deleting it needs no call to the
   * cloud (metastatic: a slot on a backing node, freed by {@link nodeDeleted}). The engine then
   * deletes the node as it deletes nodes that have no external id: `deleted`, lock dir and node
   * in one transaction that fails while anybody holds the node's lock, then `nodeDeleted`; the
   * delete state machine only runs when that transaction cannot be used.
   */
  instanceDeletedWithRecord?(node: Node): boolean;
  /** Periodic hook run by the cleanup worker. */
  cleanup?(): Promise<void>;
  /** A node of this provider was removed from ZooKeeper. */
  nodeDeleted?(node: Node): Promise<void>;

  /**
   * The pool's own caps (default `defaultPoolQuotaLimits`: `max-servers`, `max-cores`,
   * `max-ram`, `max-volumes`, `max-volume-gb`, `max-resources`). A driver whose pools cap other
   * keys, or compute caps, implements it; usage is counted against it as against the defaults.
   */
  poolQuotaLimits?(pool: PoolConfig): QuotaInformation;
  /** Cloud limits (default: unlimited). */
  getQuotaLimits?(): Promise<QuotaInformation>;
  /** Resources one node of `label` uses (default `{instances: 1}`). */
  quotaNeededByLabel?(label: string, pool: PoolConfig): QuotaInformation;
  /** Availability zones to pick from when the pool names none. */
  getAvailabilityZones?(): Promise<string[]>;
}

/**
 * A driver: what a plugin contributes for one `driver:` name. Bind it to {@link ProviderDriver}
 * in the plugin's ContainerModule.
 */
export interface ProviderDriver {
  /** The `driver:` value in nodepool.yaml, e.g. `static`. */
  readonly name: string;
  /**
   * Schema of the provider section. The kernel adds the common provider keys (`name`, `driver`,
   * `max-concurrency`, `priority`) and the common pool keys (`name`, `max-servers`,
   * `node-attributes`, `priority`), so a driver lists only its own.
   */
  readonly providerSchema: ObjectSchema;
  /** Labels served by a validated pool section (e.g. the static pool's node labels). */
  poolLabels(pool: Record<string, unknown>): string[];
  /** Checks across sections after schema validation; each message names its key path. */
  crossCheck?(provider: ProviderConfig, config: NodepoolConfig): string[];
  /** Creates the running provider. */
  createProvider(config: ProviderConfig, context: ProviderContext): Provider;
}

/** Multi-injection token for {@link ProviderDriver} contributions. */
export const ProviderDriver: unique symbol = Symbol.for('nodepool-ts.ProviderDriver');
