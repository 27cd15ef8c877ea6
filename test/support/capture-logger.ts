import type { Logger } from '../../src/plugins/logger';

/** One captured log line. */
export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A Logger that records every line (children share the record), for assertions in tests. */
export class CaptureLogger implements Logger {
  constructor(
    readonly lines: CapturedLine[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.push('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.push('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.push('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.push('error', msg, fields);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new CaptureLogger(this.lines, { ...this.bindings, ...bindings });
  }

  /** Lines of one level. */
  at(level: CapturedLine['level']): CapturedLine[] {
    return this.lines.filter((l) => l.level === level);
  }

  private push(level: CapturedLine['level'], msg: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level, msg, fields: { ...this.bindings, ...fields } });
  }
}
