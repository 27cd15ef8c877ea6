/**
 * The shared shape of Nodepool's status listings (`status.py`): each listing is a list of
 * objects whose keys are the JSON keys, and a header table mapping keys to text column titles.
 * Text output is a PrettyTable of the cells; JSON output is the objects as they are.
 */
import { capCell, prettyTable } from './pretty-table';
import { formatAge } from './format-age';
import { pythonStr } from './python-format';

/** One column: JSON key and text header. */
export interface StatusColumn {
  key: string;
  header: string;
}

/** A status row: JSON keys in column order. */
export type StatusRow = Record<string, unknown>;

/**
 * Text form of one cell (drivers-config §6): list → comma-joined, null → empty, strings as-is,
 * anything else as Python prints it (dicts in Python repr, like the captured samples).
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => pythonStr(v)).join(',');
  return pythonStr(value);
}

/**
 * Renders rows as Nodepool's text table. `fields` (the web app's `?fields=a,b`) picks and orders
 * columns by JSON key; unknown names are ignored, and no known name at all shows every column.
 * A numeric `age` (the image listings' epoch seconds) prints as `DD:HH:MM:SS` before `now`, as
 * Nodepool's table does; an `age` that is already text (node-list) stays as it is.
 */
export function statusTable(
  columns: readonly StatusColumn[],
  rows: readonly StatusRow[],
  fields?: readonly string[],
  nowSeconds: number = Date.now() / 1000,
  maxCell?: number,
): string {
  let shown = columns;
  if (fields && fields.length > 0) {
    const picked = fields.map((f) => columns.find((c) => c.key === f)).filter((c): c is StatusColumn => c !== undefined);
    if (picked.length > 0) shown = picked;
  }
  return prettyTable(
    shown.map((c) => c.header),
    rows.map((row) => shown.map((c) => {
      const text = c.key === 'age' && typeof row.age === 'number' ? formatAge(row.age, nowSeconds) : cellText(row[c.key]);
      return maxCell === undefined ? text : capCell(text, maxCell);
    })),
  );
}
