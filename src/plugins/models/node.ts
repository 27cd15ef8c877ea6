import { ModelError, nowSeconds, optNumber, optString, parseJsonBody, stringList } from './model-error';

/** Node states of spec §2.1, in Nodepool's spelling. */
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

/** The fields of a node record; see spec §2.1 for who sets what. */
export interface NodeFields {
  state: NodeState;
  state_time: number;
  type: string[];
  provider: string | null;
  pool: string | null;
  cloud: string | null;
  region: string | null;
  az: string | null;
  allocated_to: string | null;
  public_ipv4: string | null;
  private_ipv4: string | null;
  public_ipv6: string | null;
  interface_ip: string | null;
  host_id: string | null;
  connection_port: unknown;
  connection_type: string | null;
  username: string | null;
  python_path: string | null;
  shell_type: string | null;
  image_id: string | null;
  launcher: string | null;
  created_time: number | null;
  external_id: unknown;
  hostname: string | null;
  comment: string | null;
  user_data: unknown;
  hold_job: string | null;
  hold_expiration: number | null;
  host_keys: string[];
  resources: Record<string, number> | null;
  slot: number | null;
  attributes: Record<string, unknown> | null;
  tenant_name: string | null;
  driver_data: unknown;
  requestor: string | null;
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

/** The set of keys every Node body we write carries (spec §2.1). */
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

  /** The body as Nodepool writes it: every key of spec §2.1, `ssh_port` mirroring the port. */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of NODE_KEYS) {
      out[key] = key === 'ssh_port' ? this.connection_port : (this as unknown as Record<string, unknown>)[key];
    }
    out.state = this._state;
    return out;
  }

  /** UTF-8 JSON body for the znode. */
  serialize(): Buffer {
    return Buffer.from(JSON.stringify(this.toDict()), 'utf8');
  }

  /**
   * Builds a node from a body written by anyone (Nodepool, Zuul, us). Missing keys take
   * Nodepool's read defaults; unknown keys are dropped. Throws {@link ModelError} naming `path`
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
