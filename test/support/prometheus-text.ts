/**
 * A strict-enough reader of the Prometheus text exposition format (0.0.4) for tests: every line
 * must be a `# HELP`, `# TYPE`, comment, blank line or a sample `name{labels} value [ts]`, and
 * every sample's family must have been typed before. Throws naming the bad line.
 */

/** One parsed sample. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`bad sample value in: ${line}`);
  return n;
}

/** Parses `text`; see the module comment. */
export function parsePrometheusText(text: string): PromSample[] {
  const typed = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      if (!new RegExp(`^${NAME}$`).test(m[2])) throw new Error(`bad metric name in: ${line}`);
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3] ?? '')) throw new Error(`bad metric type in: ${line}`);
        typed.set(m[2], m[3] as string);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest.length > 0) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = rest.slice(l[0].length);
    }
    const family = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    if (!typed.has(m[1]) && !typed.has(family)) throw new Error(`sample of an untyped family: ${line}`);
    samples.push({ name: m[1], labels, value: parseValue(m[3], line) });
  }
  return samples;
}
