import type { QuotaInformation } from './quota';

/**
 * What a cloud says about one instance. The engine copies these fields onto the node when the
 * create state machine completes.
 */
export interface Instance {
  /** Cloud id of the instance (a string or, for some clouds, an object). */
  externalId: unknown;
  /** Node id from the instance's `nodepool_node_id` metadata, when tagged. */
  metadata: Record<string, string>;
  /** Address the launcher and Zuul connect to (`node.interface_ip`). */
  interfaceIp?: string | null;
  /** Public IPv4 address, if any. */
  publicIpv4?: string | null;
  /** Private IPv4 address, if any. */
  privateIpv4?: string | null;
  /** Public IPv6 address, if any. */
  publicIpv6?: string | null;
  /** Cloud name (`node.cloud`). */
  cloud?: string | null;
  /** Region name (`node.region`). */
  region?: string | null;
  /** Availability zone it landed in (`node.az`). */
  az?: string | null;
  /** Id of the hypervisor host, if the cloud tells (`node.host_id`). */
  hostId?: string | null;
  /** Resources it uses, for quota accounting of instances not tagged as ours. */
  quota?: QuotaInformation;
  /** Driver-specific data to store in `node.driver_data`. */
  driverData?: unknown;
  /** Extra attributes merged into `node.attributes`. */
  attributes?: Record<string, unknown>;
  /** Overrides of connection data (metastatic copies them from the backing node). */
  connection?: {
    username?: string | null;
    connectionPort?: number;
    connectionType?: string | null;
    pythonPath?: string | null;
    shellType?: string | null;
    hostKeys?: string[];
    slot?: number | null;
  };
}

/**
 * One step-wise operation (create or delete an instance). The engine calls {@link advance}
 * repeatedly (about once a second, sooner when woken) until {@link complete} is true; each call
 * should do a little work and return, never block for long.
 */
export abstract class StateMachine {
  /** Free-form current state; `start` initially. Logged and traced on each change. */
  state = 'start';
  /** Cloud id once known; the engine stores it on the node as soon as it appears. */
  externalId: unknown = null;
  /** Set when the operation is finished. */
  complete = false;
  /** Monotonic start (ms), for launch-timeout. */
  readonly startTime = performance.now();

  /**
   * Moves the operation forward. Create machines return the {@link Instance} when complete
   * (and `undefined` before); delete machines return nothing.
   * Throw {@link QuotaError} for an over-quota refusal, {@link NotFoundError} when the thing
   * is already gone (a delete then counts as done).
   */
  abstract advance(): Promise<Instance | undefined>;
}

/** A cloud refused for quota: the launch is aborted, not counted as a failed attempt. */
export class QuotaError extends Error {
  override readonly name = 'QuotaError';
}

/** The instance or resource does not exist (any more). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** What the engine passes to a create state machine. */
export interface CreateRequest {
  /** `np<node id>` */
  hostname: string;
  /** Label name to launch. */
  label: string;
  /** Pool name. */
  pool: string;
  /** Cloud image id or name resolved for the label, if any. */
  imageExternalId: string | null;
  /** `nodepool_node_id`, `nodepool_pool_name`, `nodepool_provider_name`. */
  metadata: Record<string, string>;
  /** The node being launched (read-only view). */
  nodeId: string;
  /** The request it is for, if any. */
  requestId: string | null;
  /** Availability zone chosen for the request, if any. */
  az: string | null;
}

/** A cloud resource other than an instance (floating IP, port, volume) found by a leak scan. */
export interface Resource {
  /** Kind, used in the leak metric name (`nodepool.provider.<p>.leaked.<type>s`). */
  type: string;
  /** Cloud id. */
  id: string;
  /** Tags of the resource (`nodepool_provider_name`, `nodepool_node_id`). */
  metadata: Record<string, string>;
}
