/**
 * A znode body that cannot be used: bad JSON, not an object, or an unknown state. Carries the
 * znode path so the log line names the exact place; callers log it and skip the znode.
 */
export class ModelError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ModelError';
  }
}

/**
 * Deepest nesting we accept. Python's json.loads gives up near its recursion limit (1000), so
 * Nodepool cannot read deeper bodies either; and our recursive renderers (status tables, Python
 * repr/json.dumps forms) would overflow the stack on them (found by the znode fuzz test: a node
 * whose user_data was 50 000 arrays deep made every /node-list answer 500).
 */
export const MAX_JSON_DEPTH = 500;

/** Nesting depth of a JSON text, counting brackets outside strings (one linear pass). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses a znode body as UTF-8 JSON the way Python's json module writes it (NaN/Infinity too). */
export function parseJsonBody(path: string, data: Buffer | null | undefined): Record<string, unknown> {
  const text = data ? data.toString('utf8') : '';
  if (text.trim() === '') throw new ModelError(path, 'empty body');
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new ModelError(path, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Python's json.dumps emits bare NaN/Infinity for non-finite floats; accept them as null
    // rather than dropping the whole record.
    try {
      value = JSON.parse(text.replace(/(?<=[:,[]\s*)-?(?:NaN|Infinity)(?=\s*[,}\]])/g, 'null'));
    } catch {
      throw new ModelError(path, `invalid JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelError(path, 'body is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Unix time in float seconds, as Python's time.time() gives it. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** Reads a string field; anything else (missing, wrong type) gives null. */
export function optString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Reads a finite number field; anything else gives null. */
export function optNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Reads a list of strings; a bare string becomes a one-element list (as Python does). */
export function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string');
}
