/**
 * The SDK version this kernel provides, and the check of a plugin manifest's `sdk` range against
 * it. A plugin built against another major version of `@nodepool-ts/sdk` may bind tokens or call
 * members this kernel does not have; refusing it at discovery, with both versions named, beats a
 * TypeError deep in a launch. The ranges are npm's usual forms, enough for a manifest without a
 * semver dependency: `1.2.3`, `=1.2.3`, `^1.2`, `~1.2.3`, `>=1.0.0 <2`, `1.x`, `*`, and
 * alternatives joined by `||`. Pre-release tags are not supported.
 */

/** Version of the SDK (src/plugins) this kernel runs; equals packages/sdk/package.json `version`. */
export const SDK_VERSION = '1.0.0';

type Version = [number, number, number];

/** A version with the parts given (`1`, `1.2`, `1.2.3`; an x or * ends it). */
interface Partial3 {
  parts: number[];
}

const PART = /^(0|[1-9]\d*)$/;

function parsePartial(text: string): Partial3 | undefined {
  const t = text.replace(/^v/, '');
  if (t === '' || t === '*' || t === 'x' || t === 'X') return { parts: [] };
  const pieces = t.split('.');
  if (pieces.length > 3) return undefined;
  const parts: number[] = [];
  for (const piece of pieces) {
    if (piece === 'x' || piece === 'X' || piece === '*') break;
    if (!PART.test(piece)) return undefined;
    parts.push(Number(piece));
  }
  return { parts };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function fill(parts: number[]): Version {
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

/** One comparator (`^1.2`, `>=1.0.0`, `1.x`) as a test on a version; undefined when unreadable. */
function comparatorTest(token: string): ((v: Version) => boolean) | undefined {
  const m = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(token);
  if (!m) return undefined;
  const op = m[1] ?? '';
  const p = parsePartial(m[2]);
  if (!p) return undefined;
  const { parts } = p;
  const low = fill(parts);
  const bump = (i: number): Version => {
    const v = fill(parts.slice(0, i + 1));
    v[i] += 1;
    for (let j = i + 1; j < 3; j++) v[j] = 0;
    return v;
  };
  const between = (lo: Version, hi: Version | undefined) => (v: Version): boolean => compare(v, lo) >= 0 && (!hi || compare(v, hi) < 0);
  switch (op) {
    case '':
    case '=':
      // `1.2` means 1.2.x; `*` means anything.
      if (parts.length === 0) return () => true;
      return parts.length === 3 ? (v) => compare(v, low) === 0 : between(low, bump(parts.length - 1));
    case '^': {
      if (parts.length === 0) return () => true;
      // The left-most non-zero part may not change (^0.2.3 := >=0.2.3 <0.3.0; ^0.0.3 := =0.0.3).
      const first = parts.findIndex((n) => n !== 0);
      const fixed = first < 0 ? parts.length - 1 : first;
      return between(low, bump(Math.min(fixed, parts.length - 1)));
    }
    case '~':
      if (parts.length === 0) return () => true;
      return between(low, bump(Math.min(1, parts.length - 1)));
    case '>=':
      return (v) => compare(v, low) >= 0;
    case '>':
      if (parts.length === 0) return () => false;
      return parts.length === 3 ? (v) => compare(v, low) > 0 : (v) => compare(v, bump(parts.length - 1)) >= 0;
    case '<':
      return parts.length === 0 ? () => false : (v) => compare(v, low) < 0;
    case '<=':
      return parts.length === 0 ? () => true : (v) => (parts.length === 3 ? compare(v, low) <= 0 : compare(v, bump(parts.length - 1)) < 0);
    default:
      return undefined;
  }
}

/**
 * Whether `version` (`x.y.z`) satisfies the npm-style `range`; undefined when the range (or
 * version) cannot be read.
 */
export function satisfiesSdkRange(version: string, range: string): boolean | undefined {
  const v = parsePartial(version);
  if (!v || v.parts.length !== 3) return undefined;
  const ver = fill(v.parts);
  let any = false;
  for (const alternative of range.split('||')) {
    // `>= 1.0.0` is written with a space sometimes: glue operators to their version.
    const tokens = alternative.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/).filter(Boolean);
    const tests = tokens.length === 0 ? [() => true] : tokens.map(comparatorTest);
    if (tests.some((t) => t === undefined)) return undefined;
    if ((tests as Array<(v: Version) => boolean>).every((t) => t(ver))) any = true;
  }
  return any;
}

/**
 * Checks a manifest's `sdk` value against {@link SDK_VERSION}: undefined when it is absent or
 * satisfied, else the message (starting with `where`, the file and key path).
 */
export function checkSdkRange(value: unknown, where: string, version: string = SDK_VERSION): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') return `${where} must be a version range such as "^1.0.0"`;
  const ok = satisfiesSdkRange(version, value);
  if (ok === undefined) return `${where}: cannot read the version range "${value}" (use forms like "^1.0.0", "~1.2.0", ">=1.0.0 <2")`;
  if (!ok) return `${where} requires @nodepool-ts/sdk ${value}, but this launcher provides SDK ${version}: rebuild the plugin against SDK ${version} or run a launcher whose SDK matches`;
  return undefined;
}
