/**
 * Parsing of record bodies read from ZooKeeper, at a bounded cost per record: a body is parsed
 * once per version (memoised by its buffer: every new version the cache holds is a new buffer),
 * judged once, and costs nothing more until it changes; a body over {@link MAX_BODY_BYTES} is
 * rejected by its size without being parsed. Unusable bodies go to {@link BadRecords}.
 */
import { ModelError } from './models/model-error';
import { BadRecords, type BadRecordKind } from './bad-records';

/**
 * Largest node, request or component body we parse. Nodepool and Zuul write a few KB at most
 * (a node with host keys and attributes); ZooKeeper itself allows up to 1 MiB (jute.maxbuffer),
 * and parsing hundreds of such bodies on every pass was what slowed the fleet down.
 */
export const MAX_BODY_BYTES = 256 * 1024;

type Parsed = object | null;

/** See the module comment. */
export class RecordParser {
  private readonly memo = new WeakMap<Buffer, Parsed>();
  private readonly parses = { node: 0, request: 0, component: 0 };

  constructor(readonly bad: BadRecords) {}

  /**
   * The record of a cached body, parsed at most once per buffer; undefined when unusable
   * (reported once). Callers get the memoised object: copy it before handing it out.
   */
  cached<T extends object>(kind: Exclude<BadRecordKind, 'lock-child'>, path: string, version: number, data: Buffer, parse: () => T): T | undefined {
    let parsed = this.memo.get(data);
    if (parsed === undefined) {
      parsed = this.parseOrReport(kind, path, version, data, parse);
      this.memo.set(data, parsed);
    }
    return (parsed ?? undefined) as T | undefined;
  }

  /**
   * A body read directly: parsed (size-checked first); an unusable version is reported once and
   * then skipped silently, so a worker that re-reads a bad record each pass cannot flood the log.
   */
  direct<T extends object>(kind: Exclude<BadRecordKind, 'lock-child'>, path: string, version: number, data: Buffer, parse: () => T): T | undefined {
    return (this.parseOrReport(kind, path, version, data, parse) ?? undefined) as T | undefined;
  }

  /** Bodies parsed so far, by kind (tests check "once per version" with it). */
  parseCounts(): Readonly<Record<'node' | 'request' | 'component', number>> {
    return { ...this.parses };
  }

  private parseOrReport(kind: Exclude<BadRecordKind, 'lock-child'>, path: string, version: number, data: Buffer, parse: () => object): Parsed {
    try {
      if (data.length > MAX_BODY_BYTES) throw new ModelError(path, `body of ${data.length} bytes is over the ${MAX_BODY_BYTES}-byte bound (not parsed)`);
      this.parses[kind]++;
      return parse();
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      this.bad.report(kind, path, `${path}@${version}`, err.reason);
      return null;
    }
  }
}
