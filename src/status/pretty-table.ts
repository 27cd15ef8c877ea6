/**
 * Python PrettyTable's default text style with `align = 'l'`, the way Nodepool's CLI and web app
 * print tables (drivers-config §6): `+---+` rules, one space of padding, every cell and header
 * left-aligned, an empty table still shows its header. Multi-line cells are split on newlines
 * and the row grows, as PrettyTable does.
 */

/** Renders `rows` (already cell strings) under `headers`; no trailing newline, like `str(t)`. */
export function prettyTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h) => maxLineWidth(h));
  const split: string[][][] = rows.map((row) =>
    headers.map((_, i) => {
      const lines = (row[i] ?? '').split('\n');
      for (const line of lines) if (line.length > widths[i]) widths[i] = line.length;
      return lines;
    }),
  );
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const out: string[] = [rule, line(headers.map((h) => h.split('\n')), widths), rule];
  for (const cells of split) out.push(line(cells, widths));
  out.push(rule);
  return out.join('\n');
}

function maxLineWidth(text: string): number {
  let max = 0;
  for (const l of text.split('\n')) if (l.length > max) max = l.length;
  return max;
}

/** One table row, possibly several text lines high. */
function line(cells: readonly string[][], widths: readonly number[]): string {
  const height = Math.max(1, ...cells.map((c) => c.length));
  const lines: string[] = [];
  for (let l = 0; l < height; l++) {
    let text = '|';
    for (let i = 0; i < widths.length; i++) text += ` ${(cells[i][l] ?? '').padEnd(widths[i])} |`;
    lines.push(text);
  }
  return lines.join('\n');
}
