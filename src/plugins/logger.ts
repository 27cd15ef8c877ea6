/**
 * Structured logger handed to kernel services and plugins.
 *
 * Every line about a request or a node should carry its id as a field (`request`, `node`), so a
 * reader can follow one object through the log; build such loggers with {@link Logger.child}.
 */
export interface Logger {
  /** Fine detail for debugging; off by default. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Normal operation worth recording. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Something unexpected that the launcher worked around. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Something failed; `fields.err` may carry the error. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `bindings` (e.g. `{ provider: 'static-a' }`). */
  child(bindings: Record<string, unknown>): Logger;
}

/** Injection token for the kernel's {@link Logger}. */
export const Logger: unique symbol = Symbol.for('nodepool-ts.Logger');
