import pino from 'pino';
import { Writable } from 'node:stream';
import type { Logger } from '../../plugins/logger';

/** Where log lines go: a stream (stderr by default) and the line format. */
export interface LoggerOptions {
  level: string;
  /** `auto` = human-readable on a TTY, JSON lines otherwise. */
  format: 'auto' | 'json' | 'pretty';
  /** Destination; defaults to process.stderr. Tests pass a capturing stream. */
  stream?: NodeJS.WritableStream;
  /** Fields on every line (e.g. `{ kernel: 'a' }`). */
  base?: Record<string, unknown>;
}

/** Keys whose values never reach a log line (cloud passwords, tokens, TLS keys). */
const REDACT = [
  'password', '*.password', '*.*.password', 'token', '*.token', 'secret', '*.secret',
  'application_credential_secret', '*.application_credential_secret', 'auth.password', 'auth.token',
];

/**
 * Key names whose values are censored at ANY depth. pino's `redact` paths have a fixed depth, and
 * the security test found a gap with them: a cloud config logged as `{ cloud: { auth: {
 * application_credential_secret } } }` went out in clear (only `*.application_credential_secret`
 * was listed). So every logged object is also walked, and these keys censored wherever they are.
 */
const SECRET_KEY = /password|secret|^(auth_?)?token$|^x-(auth|subject)-token$|private_?key|^key_?data$/i;
const CENSOR = '[redacted]';

/** A copy of `value` with {@link SECRET_KEY} values censored; plain objects and arrays only. */
export function censorSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object' || depth > 10) return value;
  if (seen.has(value)) return value;
  const isArray = Array.isArray(value);
  // Errors, Buffers, Dates... keep their own serializers; only data structures are walked.
  if (!isArray && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  seen.add(value);
  if (isArray) return value.map((v) => censorSecrets(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && v !== '' ? CENSOR : censorSecrets(v, depth + 1, seen);
  }
  return out;
}

/**
 * Longest log line, bytes. Hostile records can carry hundreds of KB in a field that ends up in a
 * message (a whole bad body was once logged as one 350 KB line); longer lines are cut down by
 * {@link boundLine}.
 */
export const MAX_LOG_LINE = 2048;
/** A field value longer than this (as JSON) in an over-long line is cut to it. */
const MAX_FIELD_CHARS = 200;
const MAX_MSG_CHARS = 600;

function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length} chars]`;
}

/**
 * `line` (one JSON log line, no newline) within {@link MAX_LOG_LINE} bytes: when longer, the
 * message and each long field are cut (saying how long they were) and `truncated` names the
 * line's original size; fields that still do not fit are dropped, last first.
 */
export function boundLine(line: string): string {
  const size = Buffer.byteLength(line, 'utf8');
  if (size <= MAX_LOG_LINE) return line;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return JSON.stringify({ msg: cutText(line, MAX_MSG_CHARS), truncated: size });
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'msg' && typeof value === 'string') out.msg = cutText(value, MAX_MSG_CHARS);
    else {
      const json = JSON.stringify(value) ?? '';
      out[key] = json.length <= MAX_FIELD_CHARS ? value : cutText(json, MAX_FIELD_CHARS);
    }
  }
  out.truncated = size;
  const keys = Object.keys(out);
  let text = JSON.stringify(out);
  // Multi-byte text can still be too long: drop fields from the end, then shorten the message.
  for (let i = keys.length - 2; Buffer.byteLength(text, 'utf8') > MAX_LOG_LINE && i >= 0; i--) {
    if (['level', 'time', 'msg'].includes(keys[i])) continue;
    delete out[keys[i]];
    text = JSON.stringify(out);
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_LOG_LINE) text = JSON.stringify({ level: out.level, time: out.time, msg: cutText(String(out.msg ?? ''), 200), truncated: size });
  return text;
}

/** A stream that hands each line of what it is given, bounded by {@link boundLine}, to `out`. */
function boundedStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done): void {
      const text = chunk.toString('utf8');
      // pino writes one line per chunk; the common short line passes untouched.
      if (Buffer.byteLength(text, 'utf8') <= MAX_LOG_LINE + 1) out.write(text);
      else out.write(text.split('\n').filter((l) => l).map((l) => boundLine(l) + '\n').join(''));
      done();
    },
  });
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Formats pino's JSON lines as `HH:MM:SS.mmm LEVEL msg key=value ...` for people at a terminal. */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const { time, level, msg, pid: _pid, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const ts = new Date(time as number).toISOString().slice(11, 23);
          const fields = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          out.write(`${ts} ${(LEVEL_NAMES[level as number] ?? level).toString().padEnd(5)} ${msg}${fields ? ' ' + fields : ''}\n`);
        } catch {
          out.write(line + '\n');
        }
      }
      done();
    },
  });
}

class PinoLogger implements Logger {
  constructor(private readonly log: pino.Logger) {}

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log.debug(fields ?? {}, msg);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.log.info(fields ?? {}, msg);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log.warn(fields ?? {}, msg);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.log.error(fields ?? {}, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new PinoLogger(this.log.child(bindings));
  }
}

/** Creates a kernel's logger: structured JSON lines, or readable lines on a TTY. */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.stream ?? process.stderr;
  const pretty = options.format === 'pretty' || (options.format === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  const dest = boundedStream(pretty ? prettyStream(out) : out);
  const log = pino(
    {
      level: options.level,
      base: options.base ?? {},
      redact: { paths: REDACT, censor: CENSOR },
      formatters: { log: (obj) => censorSecrets(obj) as Record<string, unknown> },
      serializers: { err: pino.stdSerializers.err },
    },
    dest as pino.DestinationStream,
  );
  return new PinoLogger(log);
}
