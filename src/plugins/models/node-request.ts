import { rawMemberText } from './raw-json';
import { ModelError, nowSeconds, optNumber, optString, parseJsonBody, stringList } from './model-error';

/** Request states, in Nodepool's spelling. */
export const REQUEST_STATES = ['requested', 'pending', 'fulfilled', 'failed'] as const;
/** One of {@link REQUEST_STATES}. */
export type RequestState = (typeof REQUEST_STATES)[number];

/** Is `value` a known request state? */
export function isRequestState(value: unknown): value is RequestState {
  return typeof value === 'string' && (REQUEST_STATES as readonly string[]).includes(value);
}

/** The 13 keys Nodepool writes, in its order; Zuul reads several without defaults. */
export const REQUEST_BODY_KEYS: readonly string[] = [
  'state', 'state_time', 'declined_by', 'node_types', 'nodes', 'reuse', 'requestor',
  'requestor_data', 'provider', 'relative_priority', 'event_id', 'created_time', 'tenant_name',
];

/** Request ids are `<3-digit priority>-<10-digit sequence>`. */
export const REQUEST_ID_PATTERN = /^(\d{3})-(-?\d{10})$/;

/**
 * A node request at `/nodepool/requests/<prio>-<seq>`. Setting {@link NodeRequest.state} stamps
 * `state_time`. `requestor_data` and the requestor's own keys are kept verbatim.
 */
export class NodeRequest {
  /** `<priority>-<sequence>`, or null before submission. */
  id: string | null;
  /** znode version of the last read or write, -1 when unknown. */
  version = -1;
  private _state: RequestState = 'requested';
  /** Unix seconds of the last state change. */
  state_time = nowSeconds();
  /** Pool launcher ids that declined it. */
  declined_by: string[] = [];
  /** Requested labels, in nodeset order. */
  node_types: string[] = [];
  /** Node ids allocated to it, index-aligned with `node_types` once fulfilled. */
  nodes: string[] = [];
  /** Whether ready nodes may be reused (false: launch new ones). */
  reuse = true;
  /** Who asked (Zuul's system id). */
  requestor: string | null = null;
  /** The requestor's own data, kept verbatim. */
  requestor_data: unknown = null;
  /** Preferred provider, or null. */
  provider: string | null = null;
  /** Order among requests of the same priority (lower first). */
  relative_priority = 0;
  /** Zuul event id, for tracing through logs. */
  event_id: string | null = null;
  /** Unix seconds of submission. */
  created_time: number | null = null;
  /** Zuul tenant (for `tenant-resource-limits`). */
  tenant_name: string | null = null;
  /**
   * `requestor_data` as read and its exact source text: written back verbatim while unchanged,
   * because JSON.parse rounds the 128-bit integers of Zuul's `span_info`.
   */
  private rawRequestorData: { value: unknown; text: string } | null = null;

  constructor(id: string | null = null) {
    this.id = id;
  }

  /** Request state; setting it stamps `state_time`. */
  get state(): RequestState {
    return this._state;
  }

  set state(value: RequestState) {
    if (!isRequestState(value)) throw new TypeError(`unknown request state ${JSON.stringify(value)}`);
    this._state = value;
    this.state_time = nowSeconds();
  }

  /** The priority prefix of the id (`"100"`), or null before submission. */
  get priority(): string | null {
    return this.id ? this.id.split('-')[0] : null;
  }

  /** The sequence part of the id, compared as a string like Nodepool does. */
  get sequence(): string | null {
    return this.id ? this.id.slice(this.id.indexOf('-') + 1) : null;
  }

  /** The body with all 13 keys (null where unknown). */
  toDict(): Record<string, unknown> {
    return {
      state: this._state,
      state_time: this.state_time,
      declined_by: this.declined_by,
      node_types: this.node_types,
      nodes: this.nodes,
      reuse: this.reuse,
      requestor: this.requestor,
      requestor_data: this.requestor_data,
      provider: this.provider,
      relative_priority: this.relative_priority,
      event_id: this.event_id,
      created_time: this.created_time,
      tenant_name: this.tenant_name,
    };
  }

  /**
   * The JSON text of `requestor_data`: as read while it is unchanged (big integers exact),
   * else as it would be written.
   */
  requestorDataText(): string {
    const raw = this.rawRequestorData;
    return raw && raw.value === this.requestor_data ? raw.text : JSON.stringify(this.requestor_data ?? null);
  }

  /** UTF-8 JSON body for the znode; an unchanged `requestor_data` is written as it was read. */
  serialize(): Buffer {
    const raw = this.rawRequestorData;
    if (!raw || raw.value !== this.requestor_data) return Buffer.from(JSON.stringify(this.toDict()), 'utf8');
    const marker = '\u0000requestor_data\u0000';
    const text = JSON.stringify({ ...this.toDict(), requestor_data: marker });
    return Buffer.from(text.replace(`"requestor_data":${JSON.stringify(marker)}`, () => `"requestor_data":${raw.text}`), 'utf8');
  }

  /** Builds a request from any writer's body; throws {@link ModelError} naming `path` when unusable. */
  static fromDict(id: string, body: Record<string, unknown>, path = `/nodepool/requests/${id}`): NodeRequest {
    if (!isRequestState(body.state)) {
      throw new ModelError(path, `unknown request state ${JSON.stringify(body.state)}`);
    }
    const r = new NodeRequest(id);
    r._state = body.state;
    r.state_time = optNumber(body.state_time) ?? nowSeconds();
    r.declined_by = stringList(body.declined_by);
    r.node_types = stringList(body.node_types);
    r.nodes = stringList(body.nodes);
    r.reuse = typeof body.reuse === 'boolean' ? body.reuse : true;
    r.requestor = optString(body.requestor);
    r.requestor_data = body.requestor_data ?? null;
    r.provider = optString(body.provider);
    r.relative_priority =
      typeof body.relative_priority === 'number' && Number.isFinite(body.relative_priority)
        ? Math.trunc(body.relative_priority)
        : 0;
    r.event_id = optString(body.event_id);
    r.created_time = optNumber(body.created_time);
    r.tenant_name = optString(body.tenant_name);
    return r;
  }

  /** Parses raw znode data; see {@link NodeRequest.fromDict}. */
  static parse(id: string, data: Buffer | null | undefined, version = -1, path = `/nodepool/requests/${id}`): NodeRequest {
    if (!REQUEST_ID_PATTERN.test(id) && id.split('-').length !== 2) {
      throw new ModelError(path, 'request id is not <priority>-<sequence>');
    }
    const req = NodeRequest.fromDict(id, parseJsonBody(path, data), path);
    req.version = version;
    const rawText = data ? rawMemberText(data.toString('utf8'), 'requestor_data') : undefined;
    // Objects only: a scalar cannot be told apart from a replacement by identity.
    if (rawText !== undefined && typeof req.requestor_data === 'object' && req.requestor_data !== null) {
      req.rawRequestorData = { value: req.requestor_data, text: rawText };
    }
    return req;
  }
}
