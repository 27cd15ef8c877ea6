/**
 * Python PrettyTable's default text style with `align = 'l'`, the way Nodepool's CLI and web app
 * print tables (drivers-config §6): `+---+` rules, one space of padding, every cell and header
 * left-aligned, an empty table still shows its header. Multi-line cells are split on newlines
 * and the row grows, as PrettyTable does.
 */

/** Renders `rows` (already cell strings) under `headers`; no trailing newline, like `str(t)`. */
export function prettyTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cols = headers.length;
  const widths = headers.map((h) => maxLineWidth(h));
  let multiLine = headers.some((h) => h.includes('\n'));
  // Plain loops: the web app renders thousands of rows per request.
  for (const row of rows) {
    for (let i = 0; i < cols; i++) {
      const cell = row[i] ?? '';
      if (cell.includes('\n')) {
        multiLine = true;
        const w = maxLineWidth(cell);
        if (w > widths[i]) widths[i] = w;
      } else if (cell.length > widths[i]) widths[i] = cell.length;
    }
  }
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const render = multiLine ? (cells: readonly string[]): string => multiLineRow(cells, widths) : (cells: readonly string[]): string => singleLineRow(cells, widths);
  const out = new Array<string>(rows.length + 4);
  out[0] = rule;
  out[1] = render(headers);
  out[2] = rule;
  for (let r = 0; r < rows.length; r++) out[r + 3] = render(rows[r]);
  out[rows.length + 3] = rule;
  return out.join('\n');
}

/**
 * Longest cell text the web app's tables print. Every row is padded to its column's widest cell,
 * so one record with a huge field (a 600 KB `comment` written by a buggy client) would make each
 * line of a 6 000-node table that wide: tens of megabytes per answer. JSON answers keep the full
 * value; the CLI prints what it reads, as Nodepool's does.
 */
export const WEB_CELL_MAX = 1024;

/** `text` cut to `max` characters, saying how much was left out. */
export function capCell(text: string, max: number = WEB_CELL_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

function maxLineWidth(text: string): number {
  let max = 0;
  for (const l of text.split('\n')) if (l.length > max) max = l.length;
  return max;
}

function singleLineRow(cells: readonly string[], widths: readonly number[]): string {
  let text = '|';
  for (let i = 0; i < widths.length; i++) text += ` ${(cells[i] ?? '').padEnd(widths[i])} |`;
  return text;
}

/** One table row, as many text lines high as its tallest cell. */
function multiLineRow(cells: readonly string[], widths: readonly number[]): string {
  const split = widths.map((_, i) => (cells[i] ?? '').split('\n'));
  const height = Math.max(1, ...split.map((c) => c.length));
  const lines: string[] = [];
  for (let l = 0; l < height; l++) lines.push(singleLineRow(split.map((c) => c[l] ?? ''), widths));
  return lines.join('\n');
}
