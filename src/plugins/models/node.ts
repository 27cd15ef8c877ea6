import { ModelError, nowSeconds, optNumber, optString, parseJsonBody, stringList } from './model-error';

/** Node states, in Nodepool's spelling. */
export const NODE_STATES = [
  'init', 'building', 'testing', 'ready', 'in-use', 'used', 'hold', 'deleting', 'failed', 'aborted',
  'deleted',
] as const;
/** One of {@link NODE_STATES}. */
export type NodeState = (typeof NODE_STATES)[number];

/** Is `value` a known node state? */
export function isNodeState(value: unknown): value is NodeState {
  return typeof value === 'string' && (NODE_STATES as readonly string[]).includes(value);
}

/** The fields of a node record, with Nodepool's names (the launcher, Zuul and the CLI all write some). */
export interface NodeFields {
  /** Node state; see {@link NODE_STATES}. */
  state: NodeState;
  /** Unix seconds of the last state change. */
  state_time: number;
  /** Labels the node has (one, in practice). */
  type: string[];
  /** Provider that launched it. */
  provider: string | null;
  /** Pool it belongs to. */
  pool: string | null;
  /** Cloud name. */
  cloud: string | null;
  /** Region name. */
  region: string | null;
  /** Availability zone. */
  az: string | null;
  /** Request id it is allocated to, or null. */
  allocated_to: string | null;
  /** Public IPv4 address. */
  public_ipv4: string | null;
  /** Private IPv4 address. */
  private_ipv4: string | null;
  /** Public IPv6 address. */
  public_ipv6: string | null;
  /** Address Zuul connects to. */
  interface_ip: string | null;
  /** Hypervisor host id. */
  host_id: string | null;
  /** Port Zuul connects to (written also as `ssh_port`). */
  connection_port: unknown;
  /** How Zuul connects (`ssh`, `winrm`, ...). */
  connection_type: string | null;
  /** Login user. */
  username: string | null;
  /** Python interpreter path for Ansible. */
  python_path: string | null;
  /** Shell type for Ansible. */
  shell_type: string | null;
  /** Image (upload path or cloud image name) it was booted from. */
  image_id: string | null;
  /** Pool launcher id that launched it. */
  launcher: string | null;
  /** Unix seconds of creation. */
  created_time: number | null;
  /** Cloud id of its instance. */
  external_id: unknown;
  /** Host name (`np<id>`). */
  hostname: string | null;
  /** Free-form comment (hold reason). */
  comment: string | null;
  /** The requestor's data (Zuul's system id, ...). */
  user_data: unknown;
  /** Autohold key of the job that held it. */
  hold_job: string | null;
  /** Seconds a held node is kept, or null. */
  hold_expiration: number | null;
  /** SSH host keys from the nodescan. */
  host_keys: string[];
  /** Resources it uses (`cores`, `ram`, `instances`). */
  resources: Record<string, number> | null;
  /** Slot number on a static host, or null. */
  slot: number | null;
  /** Pool `node-attributes` and driver attributes. */
  attributes: Record<string, unknown> | null;
  /** Tenant of the request it was launched for. */
  tenant_name: string | null;
  /** Driver-specific data. */
  driver_data: unknown;
  /** Requestor of the request it was launched for. */
  requestor: string | null;
  /** Where our launch of it stands (`nodepool_ts_launch`), or null; see {@link NodeLaunchRecord}. */
  nodepool_ts_launch: NodeLaunchRecord | null;
}

/**
 * The launch state nodepool-ts keeps on a `building` node (key `nodepool_ts_launch`, beside
 * Nodepool's keys, written only while set), so a launcher that takes over the node of a dead one
 * resumes its create state machine instead of deleting the instance. Python Nodepool drops the key
 * on read; its nodes never carry it.
 */
export interface NodeLaunchRecord {
  /** The create state machine's state when last stored. */
  machine_state: string;
  /** The instance's cloud id at that point. */
  external_id: unknown;
  /** Attempt number (1-based) of the launch it belongs to. */
  attempt: number;
  /** Unix seconds when the launch attempt started. */
  since: number;
}

function launchRecord(value: unknown): NodeLaunchRecord | null {
  if (!isPlainObject(value)) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.machine_state !== 'string' || v.external_id === null || v.external_id === undefined) return null;
  return {
    machine_state: v.machine_state,
    external_id: v.external_id,
    attempt: typeof v.attempt === 'number' ? v.attempt : 1,
    since: typeof v.since === 'number' ? v.since : 0,
  };
}

/** Key order of Nodepool's Node.toDict, so our bodies diff cleanly against Python's. */
const NODE_KEYS = [
  'state', 'state_time', 'cloud', 'provider', 'pool', 'type', 'allocated_to', 'az', 'region',
  'public_ipv4', 'private_ipv4', 'public_ipv6', 'host_id', 'interface_ip', 'connection_port',
  'ssh_port', 'image_id', 'launcher', 'created_time', 'external_id', 'hostname', 'comment',
  'user_data', 'hold_job', 'host_keys', 'username', 'connection_type', 'shell_type',
  'hold_expiration', 'resources', 'slot', 'attributes', 'python_path', 'tenant_name', 'driver_data',
  'requestor',
] as const;

/** The set of keys every Node body we write carries. */
export const NODE_BODY_KEYS: readonly string[] = NODE_KEYS;

function holdExpiration(value: unknown): number | null {
  // Python coerces with int(); anything int() rejects ("1.5", "abc", NaN, objects) counts as 0
  // ("no expiry"). int() truncates floats and accepts integer strings with blanks around them.
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return 0;
}

/**
 * A node record at `/nodepool/nodes/<id>`. Setting {@link Node.state} stamps `state_time`, as in
 * Nodepool. `id` and `stat_version` are not part of the body.
 */
export class Node implements NodeFields {
  /** The 10-digit sequence name, or null before the first store. */
  id: string | null = null;
  /** znode version of the last read or write, -1 when unknown. */
  version = -1;
  private _state: NodeState = 'init';
  state_time = nowSeconds();
  type: string[] = [];
  provider: string | null = null;
  pool: string | null = null;
  cloud: string | null = null;
  region: string | null = null;
  az: string | null = null;
  allocated_to: string | null = null;
  public_ipv4: string | null = null;
  private_ipv4: string | null = null;
  public_ipv6: string | null = null;
  interface_ip: string | null = null;
  host_id: string | null = null;
  connection_port: unknown = 22;
  connection_type: string | null = null;
  username: string | null = 'zuul';
  python_path: string | null = null;
  shell_type: string | null = null;
  image_id: string | null = null;
  launcher: string | null = null;
  created_time: number | null = null;
  external_id: unknown = null;
  hostname: string | null = null;
  comment: string | null = null;
  user_data: unknown = null;
  hold_job: string | null = null;
  hold_expiration: number | null = null;
  host_keys: string[] = [];
  resources: Record<string, number> | null = null;
  slot: number | null = null;
  attributes: Record<string, unknown> | null = null;
  tenant_name: string | null = null;
  driver_data: unknown = null;
  requestor: string | null = null;
  nodepool_ts_launch: NodeLaunchRecord | null = null;

  constructor(id: string | null = null) {
    this.id = id;
  }

  get state(): NodeState {
    return this._state;
  }

  set state(value: NodeState) {
    if (!isNodeState(value)) throw new TypeError(`unknown node state ${JSON.stringify(value)}`);
    this._state = value;
    this.state_time = nowSeconds();
  }

  /**
   * The body as Nodepool writes it: every key Nodepool writes, `ssh_port` mirroring the port,
   * plus `nodepool_ts_launch` while set.
   */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of NODE_KEYS) {
      out[key] = key === 'ssh_port' ? this.connection_port : (this as unknown as Record<string, unknown>)[key];
    }
    out.state = this._state;
    if (this.nodepool_ts_launch) out.nodepool_ts_launch = this.nodepool_ts_launch;
    return out;
  }

  /** UTF-8 JSON body for the znode. */
  serialize(): Buffer {
    return Buffer.from(JSON.stringify(this.toDict()), 'utf8');
  }

  /**
   * Builds a node from a body written by anyone (Nodepool, Zuul, us). Missing keys take
   * Nodepool's read defaults; unknown keys are dropped (`nodepool_ts_launch` is ours, kept). Throws {@link ModelError} naming `path`
   * for bad JSON or an unknown state.
   */
  static fromDict(id: string, body: Record<string, unknown>, path = `/nodepool/nodes/${id}`): Node {
    if (!isNodeState(body.state)) {
      throw new ModelError(path, `unknown node state ${JSON.stringify(body.state)}`);
    }
    const n = new Node(id);
    n._state = body.state;
    n.state_time = optNumber(body.state_time) ?? nowSeconds();
    n.type = stringList(body.type);
    for (const key of [
      'provider', 'pool', 'cloud', 'region', 'az', 'allocated_to', 'public_ipv4', 'private_ipv4',
      'public_ipv6', 'interface_ip', 'host_id', 'connection_type', 'python_path', 'shell_type',
      'image_id', 'launcher', 'hostname', 'comment', 'hold_job', 'tenant_name', 'requestor',
    ] as const) {
      n[key] = optString(body[key]);
    }
    n.username = optString(body.username) ?? 'zuul';
    n.connection_port = body.connection_port ?? body.ssh_port ?? 22;
    n.created_time = optNumber(body.created_time);
    n.external_id = body.external_id ?? null;
    n.user_data = body.user_data ?? null;
    n.hold_expiration = holdExpiration(body.hold_expiration);
    n.host_keys = stringList(body.host_keys);
    n.resources = isPlainObject(body.resources) ? (body.resources as Record<string, number>) : null;
    n.slot = typeof body.slot === 'number' && Number.isInteger(body.slot) ? body.slot : null;
    n.attributes = isPlainObject(body.attributes) ? (body.attributes as Record<string, unknown>) : null;
    n.driver_data = body.driver_data ?? null;
    n.nodepool_ts_launch = launchRecord(body.nodepool_ts_launch);
    return n;
  }

  /** Parses raw znode data; see {@link Node.fromDict}. */
  static parse(id: string, data: Buffer | null | undefined, version = -1, path = `/nodepool/nodes/${id}`): Node {
    const node = Node.fromDict(id, parseJsonBody(path, data), path);
    node.version = version;
    return node;
  }
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
