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
  const dest = pretty ? prettyStream(out) : out;
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
