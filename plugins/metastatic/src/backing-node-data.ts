/**
 * The metastatic driver's persisted data, exactly as Nodepool writes it (spec drivers-config
 * §3.2, zk-protocol §2.1): the backing node's `user_data` JSON string and each requested node's
 * `driver_data` object.
 */

/** Owner id of a metastatic provider: requestor of backing requests and lock identifier. */
export function metastaticOwnerId(providerName: string): string {
  return `NodePool:metastatic:${providerName}`;
}

/** The backing node's `user_data` (a JSON string in ZooKeeper). */
export interface BackingUserData {
  owner: string;
  /** Metastatic label name the backing node serves. */
  label: string;
  /** `max-parallel-jobs` when it was claimed. */
  slots: number;
  failed: boolean;
  /** Epoch seconds (float) when the record was created. */
  launched: number;
}

/** Python's `json.dumps` spacing, so the string is byte-identical to what Nodepool writes. */
function pyJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) return String(value);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')}}`;
}

/** The `user_data` string for a backing node (key order of `adapter.py:474-481`). */
export function formatBackingUserData(data: BackingUserData): string {
  return pyJson({ owner: data.owner, label: data.label, slots: data.slots, failed: data.failed, launched: data.launched });
}

/**
 * Parses a node's `user_data` as backing-node data of `owner`; undefined when it is not ours
 * (Zuul's own user_data is an object, other providers' strings have another owner). Missing
 * `failed`/`launched` take Nodepool's recovery defaults (false, 0).
 */
export function parseBackingUserData(userData: unknown, owner: string): BackingUserData | undefined {
  if (typeof userData !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const d = parsed as Record<string, unknown>;
  if (d.owner !== owner || typeof d.label !== 'string') return undefined;
  return {
    owner,
    label: d.label,
    slots: typeof d.slots === 'number' && d.slots > 0 ? Math.trunc(d.slots) : 1,
    failed: d.failed === true,
    launched: typeof d.launched === 'number' ? d.launched : 0,
  };
}

/** A requested node's `driver_data` (`statemachine.py`/MS:132-137). */
export interface MetastaticDriverData {
  metadata: Record<string, string>;
  /** Backing node id, or null while none is assigned. */
  backing_node: string | null;
  slot: number | null;
  /** The node's own id. */
  node: string;
}

/** Reads `driver_data` of a metastatic node; undefined when it has none (still building). */
export function parseDriverData(driverData: unknown): MetastaticDriverData | undefined {
  if (driverData === null || typeof driverData !== 'object' || Array.isArray(driverData)) return undefined;
  const d = driverData as Record<string, unknown>;
  return {
    metadata: (d.metadata && typeof d.metadata === 'object' ? d.metadata : {}) as Record<string, string>,
    backing_node: typeof d.backing_node === 'string' ? d.backing_node : null,
    slot: typeof d.slot === 'number' && Number.isInteger(d.slot) ? d.slot : null,
    node: typeof d.node === 'string' ? d.node : '',
  };
}
