/**
 * Reporting of unusable records found in ZooKeeper (unreadable node, request and component
 * bodies, foreign children in lock dirs). Anyone with write access can create hundreds of them
 * in seconds, so the report is bounded: each record version is reported once, the reason is cut
 * to {@link MAX_REASON_CHARS}, and past {@link BadRecordOptions.perInterval} lines per kind and
 * interval the rest are counted and summarised in one line when the interval ends.
 */
import type { Logger } from '../plugins/logger';

/** What kind of record was bad (the `kind` label of `nodepool_bad_records_total`). */
export type BadRecordKind = 'node' | 'request' | 'component' | 'lock-child';

/** Longest reason text in a log line; hostile bodies can make a parser's message huge. */
export const MAX_REASON_CHARS = 300;

/** Tuning of {@link BadRecords}. */
export interface BadRecordOptions {
  /** Summary interval, ms (default 10 000). */
  intervalMs?: number;
  /** Lines per kind logged one by one in an interval before the rest are summarised (default 100). */
  perInterval?: number;
}

/** Listener of {@link BadRecords.onReport}. */
export type BadRecordListener = (kind: BadRecordKind, path: string) => void;

interface Window {
  logged: number;
  suppressed: number;
  examples: string[];
}

/** Paths named in a summary line (the rest are counted). */
const SUMMARY_EXAMPLES = 10;

/** See the module comment. */
export class BadRecords {
  private readonly reported = new Set<string>();
  private readonly totals = new Map<BadRecordKind, number>();
  private readonly listeners = new Set<BadRecordListener>();
  private readonly windows = new Map<BadRecordKind, Window>();
  private windowStart = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly perInterval: number;

  constructor(
    private readonly logger: Logger,
    options: BadRecordOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.perInterval = options.perInterval ?? 100;
  }

  /** Whether `key` (a path and version, or a lock child's path) was reported already. */
  seen(key: string): boolean {
    return this.reported.has(key);
  }

  /**
   * Reports a bad record once per `key`; the first sighting is counted, told to the listeners and
   * logged (or summarised). Returns false when `key` was reported before.
   */
  report(kind: BadRecordKind, path: string, key: string, reason: string, id = path.slice(path.lastIndexOf('/') + 1)): boolean {
    if (this.reported.has(key)) return false;
    // Bounded memory: forgetting everything at once only means each record is reported once more.
    if (this.reported.size >= 10_000) this.reported.clear();
    this.reported.add(key);
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    for (const listener of this.listeners) listener(kind, path);
    this.rollWindow();
    const w = this.windows.get(kind) ?? { logged: 0, suppressed: 0, examples: [] };
    this.windows.set(kind, w);
    if (w.logged < this.perInterval) {
      w.logged++;
      const field = kind === 'lock-child' ? 'node' : kind;
      this.logger.error(`${describe(kind)} ${path}: ${cut(reason)}`, { path, [field]: id, badRecord: kind });
      return true;
    }
    if (w.examples.length < SUMMARY_EXAMPLES) w.examples.push(path);
    w.suppressed++;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.rollWindow(true);
    }, Math.max(0, this.windowStart + this.intervalMs - Date.now())).unref();
    return true;
  }

  /** Bad records reported so far, by kind. */
  counts(): Record<BadRecordKind, number> {
    const out = { node: 0, request: 0, component: 0, 'lock-child': 0 };
    for (const [kind, n] of this.totals) out[kind] = n;
    return out;
  }

  /** Hears of every bad record when first reported; returns the unsubscribe function. */
  onReport(listener: BadRecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends the interval when it is over (or now, `force`): one summary line per kind with suppressed reports. */
  private rollWindow(force = false): void {
    if (!force && Date.now() - this.windowStart < this.intervalMs) return;
    const seconds = Math.round((Date.now() - this.windowStart) / 1000);
    for (const [kind, w] of this.windows) {
      if (w.suppressed === 0) continue;
      const more = w.suppressed - w.examples.length;
      this.logger.error(`${w.suppressed} more bad ${kind} records in the last ${seconds} s, not logged one by one: ${w.examples.join(', ')}${more > 0 ? ` and ${more} more` : ''}`, {
        badRecord: kind, suppressed: w.suppressed,
      });
    }
    this.windows.clear();
    this.windowStart = Date.now();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function describe(kind: BadRecordKind): string {
  return kind === 'lock-child' ? 'ignoring non-lock child in lock dir' : `skipping unreadable ${kind}`;
}

/** `text` cut to {@link MAX_REASON_CHARS}, saying how long it was. */
export function cut(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length} chars]`;
}
