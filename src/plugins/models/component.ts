import { ModelError, optString, parseJsonBody, stringList } from './model-error';

/** Component kinds registered under `/nodepool/components/<kind>/`. */
export type ComponentKind = 'launcher' | 'pool' | 'builder';
/** Component states. */
export type ComponentState = 'initializing' | 'running' | 'paused' | 'stopped';

/** Base content of every component record. */
export interface ComponentRecord {
  /** Host name of the process. */
  hostname: string;
  /** Component kind. */
  kind: ComponentKind;
  /** Component state. */
  state: ComponentState;
  /** Software version (ours ends in ` nodepool-ts`). */
  version: string;
  /** Model API version. */
  model_api: number;
  [extra: string]: unknown;
}

/** A pool component: what other launchers and Zuul read to route and decline requests. */
export interface PoolComponentRecord extends ComponentRecord {
  /** Always `pool`. */
  kind: 'pool';
  /** Pool launcher id; identical to what this pool writes in `declined_by` and `node.launcher`. */
  id: string;
  /** Pool name. */
  name: string;
  /** Provider of the pool. */
  provider_name: string;
  /** Labels the pool can serve now. */
  supported_labels: string[];
  /** Pool priority (lower wins). */
  priority: number;
  /** True while a request waits for quota in this pool. */
  paused: boolean;
}

/** Our model_api; Nodepool publishes 0 today. */
export const MODEL_API = 0;

/** Serializes with sorted keys at every level, in the key order of Python's `json.dumps(sort_keys=True)`. */
export function serializeComponent(record: ComponentRecord): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(record)), 'utf8');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/**
 * Parses a component body, filling pool keys with Nodepool's reader defaults
 * (priority 100, paused false, no labels). Throws {@link ModelError} naming `path`.
 */
export function parseComponent(path: string, data: Buffer | null | undefined): ComponentRecord {
  const body = parseJsonBody(path, data);
  const kind = body.kind;
  if (kind !== 'launcher' && kind !== 'pool' && kind !== 'builder') {
    throw new ModelError(path, `unknown component kind ${JSON.stringify(kind)}`);
  }
  const record: ComponentRecord = {
    ...body,
    hostname: optString(body.hostname) ?? '',
    kind,
    state: (optString(body.state) ?? 'stopped') as ComponentState,
    version: optString(body.version) ?? '',
    model_api: typeof body.model_api === 'number' ? body.model_api : 0,
  };
  if (kind === 'pool') {
    record.id = optString(body.id);
    record.name = optString(body.name);
    record.provider_name = optString(body.provider_name);
    record.supported_labels = stringList(body.supported_labels);
    record.priority = typeof body.priority === 'number' ? body.priority : 100;
    record.paused = typeof body.paused === 'boolean' ? body.paused : false;
  }
  return record;
}
