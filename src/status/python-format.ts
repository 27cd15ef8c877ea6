/**
 * Python's text forms of JSON values, for output that must match Nodepool byte for byte:
 * `repr()` / `str()` of decoded JSON (dicts in table cells) and `json.dumps()` with its default
 * separators and `ensure_ascii` (the web app's and `--json` bodies).
 */

/** Python `repr(float)` / `repr(int)` of a JSON number (integers print without `.0`). */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const abs = Math.abs(value);
  // Python switches to exponent form below 1e-4 and from 1e16; JS at 1e-7 and 1e21.
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exp] = value.toExponential().split('e');
    const n = Number.parseInt(exp, 10);
    const digits = String(Math.abs(n)).padStart(2, '0');
    return `${mantissa}e${n < 0 ? '-' : '+'}${digits}`;
  }
  return String(value);
}

/** Python `repr(str)`: single quotes unless the text has a `'` and no `"`. */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a decoded JSON value (dict, list, str, number, bool, None). */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pythonStringRepr(value);
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

/** Python `str()` of a decoded JSON value: strings bare, everything else as `repr()`. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

/** `json.dumps` string escaping with `ensure_ascii=True`. */
function jsonString(text: string): string {
  // JSON.stringify escapes quotes, backslashes and controls like Python; Python also writes DEL
  // and every non-ASCII UTF-16 unit as \uXXXX (lowercase hex).
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Python `json.dumps(value)` with default options (`", "` and `": "` separators). */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) parts.push(`${jsonString(k)}: ${pythonJsonDumps(v)}`);
    return `{${parts.join(', ')}}`;
  }
  return 'null';
}
