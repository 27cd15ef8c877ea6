/**
 * How far V8 lets the JS heap grow past what survived the last full collection. V8's default
 * grows it up to 4x when collections are cheap; a launcher with 10 000 nodes keeps ~70 MB live
 * and makes short-lived garbage steadily (pass snapshots, ZooKeeper replies), so its heap sat at
 * ~260 MB between full collections. At 1.5x it stays near 110 MB; the extra full collections
 * (every second or two under load, ~20 ms each, mostly incremental) did not change the
 * launcher's CPU time in the `scale` benchmark. NODEPOOL_TS_HEAP_GROWING_PERCENT overrides
 * it (0: V8's own policy).
 */
import v8 from 'node:v8';

const DEFAULT_PERCENT = 50;

/** Applies the launcher's heap growth setting to this process; returns the percentage set. */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NODEPOOL_TS_HEAP_GROWING_PERCENT;
  const percent = raw !== undefined && raw !== '' && Number.isInteger(Number(raw)) && Number(raw) >= 0 ? Number(raw) : DEFAULT_PERCENT;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
