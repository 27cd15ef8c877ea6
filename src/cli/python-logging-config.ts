/**
 * Nodepool's `-l LOGCONFIG` (cmd/__init__.py): a Python logging configuration, INI
 * (`logging.config.fileConfig`) or, for a `.yml`/`.yaml` file, `dictConfig` YAML. Our logger has
 * one level and one destination, so this takes what matters for the launcher's lines: the
 * level of the `nodepool` logger (else the root logger), raised to its first handler's level,
 * and where that handler writes (a file handler's file, or stdout/stderr). Formats and other
 * loggers have no equivalent and are ignored.
 */
import fs from 'node:fs';
import yaml from 'js-yaml';

/** Our log levels, from Python's. */
export type PlanLevel = 'debug' | 'info' | 'warn' | 'error';

/** What our logger does with a Python logging configuration. */
export interface LoggingPlan {
  level: PlanLevel;
  destination: { kind: 'file'; path: string } | { kind: 'stdout' } | { kind: 'stderr' };
}

const LEVELS: Record<string, { plan: PlanLevel; rank: number }> = {
  NOTSET: { plan: 'debug', rank: 0 }, DEBUG: { plan: 'debug', rank: 10 }, INFO: { plan: 'info', rank: 20 },
  WARN: { plan: 'warn', rank: 30 }, WARNING: { plan: 'warn', rank: 30 }, ERROR: { plan: 'error', rank: 40 }, CRITICAL: { plan: 'error', rank: 50 },
};

interface Handler {
  className: string;
  level?: string;
  file?: string;
  stream?: 'stdout' | 'stderr';
}

/** Reads the file; throws an Error naming the file and what is wrong with it. */
export function readPythonLoggingConfig(file: string): LoggingPlan {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the logging configuration: ${(err as Error).message}`);
  }
  const { level, handler } = /\.ya?ml$/i.test(file) ? fromDictConfig(file, text) : fromFileConfig(file, text);
  const rank = (name: string | undefined): number => LEVELS[(name ?? 'NOTSET').toUpperCase()]?.rank ?? 0;
  const effective = rank(handler?.level) > rank(level) ? handler?.level : level;
  const mapped = LEVELS[(effective ?? 'WARNING').toUpperCase()];
  if (!mapped) throw new Error(`${file}: unknown log level ${JSON.stringify(effective)}`);
  const destination: LoggingPlan['destination'] = handler?.file ? { kind: 'file', path: handler.file } : { kind: handler?.stream === 'stdout' ? 'stdout' : 'stderr' };
  return { level: mapped.plan, destination };
}

function fromDictConfig(file: string, text: string): { level?: string; handler?: Handler } {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new Error(`${file}: YAML parsing failed: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`${file}: not a logging dictConfig (expected a mapping)`);
  const d = doc as { root?: { level?: string; handlers?: string[] }; loggers?: Record<string, { level?: string; handlers?: string[] }>; handlers?: Record<string, Record<string, unknown>> };
  const logger = d.loggers?.nodepool ?? d.root ?? {};
  const name = (logger.handlers ?? d.root?.handlers ?? [])[0];
  const raw = name !== undefined ? d.handlers?.[name] : undefined;
  const stream = typeof raw?.stream === 'string' ? (/stdout/.test(raw.stream) ? 'stdout' : 'stderr') : undefined;
  const handler = raw ? { className: String(raw.class ?? ''), level: raw.level as string | undefined, file: typeof raw.filename === 'string' ? raw.filename : undefined, stream } as Handler : undefined;
  return { level: logger.level, handler };
}

function fromFileConfig(file: string, text: string): { level?: string; handler?: Handler } {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      sections.set(header[1].trim(), (current = new Map()));
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(trimmed);
    if (kv && current) current.set(kv[1].trim(), kv[2].trim());
  }
  if (!sections.has('loggers')) throw new Error(`${file}: not a logging configuration (no [loggers] section; a dictConfig file must end in .yaml or .yml)`);
  const keys = (sections.get('loggers')!.get('keys') ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  const named = keys.map((k) => sections.get(`logger_${k}`)).find((s) => s?.get('qualname') === 'nodepool');
  const logger = named ?? sections.get('logger_root') ?? new Map<string, string>();
  const handlerName = (logger.get('handlers') ?? '').split(',').map((h) => h.trim()).filter(Boolean)[0];
  const h = handlerName ? sections.get(`handler_${handlerName}`) : undefined;
  let handler: Handler | undefined;
  if (h) {
    const args = h.get('args') ?? '';
    const quoted = /^\(\s*['"]([^'"]+)['"]/.exec(args);
    handler = { className: h.get('class') ?? '', level: h.get('level'), file: quoted?.[1], stream: /sys\.stdout/.test(args) ? 'stdout' : /sys\.stderr/.test(args) ? 'stderr' : undefined };
  }
  return { level: logger.get('level'), handler };
}
