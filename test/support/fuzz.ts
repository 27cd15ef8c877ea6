/**
 * Deterministic hostile-input generators for the fuzz tests: a seeded PRNG (mulberry32, so a
 * failing case can be replayed from its seed and index) and malformed znode bodies.
 */

/** A seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over one PRNG. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Values of unexpected types and sizes for a field. */
export function weirdValue(rng: Rng): unknown {
  const kinds: Array<() => unknown> = [
    () => null,
    () => 42,
    () => -1.5e308,
    () => 'x'.repeat(rng.pick([0, 1, 10_000, 200_000])),
    () => true,
    () => [],
    () => [1, 'two', null, { three: 3 }],
    () => ({ nested: { deeper: [1, 2, 3] } }),
    () => 'not-a-state',
    () => '\u0000\uffff\ud800',
    () => Number.MAX_SAFE_INTEGER * 1024,
    () => ({ toString: 'x', __proto__: { polluted: true }, constructor: 'y' }),
  ];
  return rng.pick(kinds)();
}

/** A JSON body nested `depth` levels deep (arrays or objects). */
export function deepJson(depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

/** The kinds of malformed bodies, named so a failure says which kind broke. */
export const BODY_KINDS = [
  'bad-json', 'truncated', 'empty', 'whitespace', 'non-object', 'wrong-types', 'unknown-state',
  'missing-keys', 'huge-value', 'huge-number', 'deep-arrays', 'deep-objects', 'invalid-utf8', 'binary',
  'nan-infinity', 'proto-keys',
] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

/**
 * Kinds whose bodies are 100 KB to 700 KB: ZooKeeper stores each, and every cache, table and CLI
 * listing reads and parses it again. A few of each find what twenty do; twenty of each made the
 * znode fuzz test take four minutes on a busy two-core machine.
 */
export const HEAVY_KINDS: ReadonlySet<BodyKind> = new Set<BodyKind>(['huge-value', 'deep-arrays', 'deep-objects']);

/**
 * Picks body kinds for a fuzz run bounded by work, not by wall time: uniform over every kind
 * until a heavy kind has come up `heavyEach` times for one target, then over the others. The
 * same seed gives the same sequence.
 */
export class KindPicker {
  private readonly heavyUsed = new Map<string, number>();
  constructor(private readonly rng: Rng, private readonly heavyEach: number) {}

  /** The next kind for a body of `target` (e.g. 'node' or 'request': each has its own budget). */
  next(target: string): BodyKind {
    const kind = BODY_KINDS[this.rng.int(BODY_KINDS.length)];
    if (!HEAVY_KINDS.has(kind)) return kind;
    const key = `${target}:${kind}`;
    const used = this.heavyUsed.get(key) ?? 0;
    if (used >= this.heavyEach) return this.rng.pick(BODY_KINDS.filter((k) => !HEAVY_KINDS.has(k)));
    this.heavyUsed.set(key, used + 1);
    return kind;
  }
}

/**
 * One malformed body derived from `valid` (a good record of the kind being fuzzed). Some kinds
 * still parse (wrong types are read with Nodepool's defaults); the tests classify each body
 * with the real parser rather than assuming.
 */
export function malformedBody(rng: Rng, kind: BodyKind, valid: Record<string, unknown>): Buffer {
  const text = JSON.stringify(valid);
  switch (kind) {
    case 'bad-json':
      return Buffer.from(rng.pick(['{', '{"state": }', "{'state': 'ready'}", '{"a":1,}', 'nul', '{"state":"ready"} trailing', '\u0000']));
    case 'truncated':
      return Buffer.from(text.slice(0, 1 + rng.int(text.length - 1)));
    case 'empty':
      return Buffer.alloc(0);
    case 'whitespace':
      return Buffer.from(' \n\t ');
    case 'non-object':
      return Buffer.from(rng.pick(['null', '42', '"ready"', '[]', '[{"state":"ready"}]', 'true', '1e999']));
    case 'wrong-types': {
      const body: Record<string, unknown> = { ...valid };
      for (const key of Object.keys(body)) if (rng.chance(0.5)) body[key] = weirdValue(rng);
      return Buffer.from(JSON.stringify(body));
    }
    case 'unknown-state':
      return Buffer.from(JSON.stringify({ ...valid, state: rng.pick(['READY', 'bogus', '', 7, null, ['ready']]) }));
    case 'missing-keys': {
      const body: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(valid)) if (rng.chance(0.3)) body[key] = value;
      return Buffer.from(JSON.stringify(body));
    }
    case 'huge-value':
      // Below ZooKeeper's 1 MiB jute.maxbuffer, above anything sane. The bulk is in a key no table
      // shows; the shown fields are 40 times the longest real hostname: a shown value widens every
      // row of the text tables (web /node-list, `nodepool list`), and 600 KB there made each such
      // answer 45 MB and the fuzz test minutes long.
      return Buffer.from(JSON.stringify({ ...valid, comment: 'c'.repeat(10_000), hostname: 'h'.repeat(10_000), padding: 'p'.repeat(600_000) }));
    case 'huge-number':
      return Buffer.from(text.replace(/^\{/, '{"state_time": 1e400, "created_time": -1e400, "relative_priority": 99999999999999999999999, "slot": 1e308, '));
    case 'deep-arrays':
      return Buffer.from(`{"state": "ready", "user_data": ${deepJson(50_000, false)}}`);
    case 'deep-objects':
      return Buffer.from(`{"state": "requested", "requestor_data": ${deepJson(20_000, true)}}`);
    case 'invalid-utf8':
      return Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(20))]);
    case 'binary':
      return Buffer.from(Array.from({ length: 64 }, () => rng.int(256)));
    case 'nan-infinity':
      return Buffer.from(text.replace(/^\{/, '{"state_time": NaN, "created_time": -Infinity, '));
    case 'proto-keys':
      return Buffer.from(text.replace(/^\{/, '{"__proto__": {"state": "ready", "polluted": 1}, "constructor": {"prototype": {"x": 1}}, '));
  }
}
