/**
 * How much work the fault tests demand around each fault: 1 in the default run (short), more in
 * `npm run test:faults` (NODEPOOL_TS_FAULTS_SCALE) for a longer soak.
 */
export const FAULT_SCALE = Math.max(1, Number(process.env.NODEPOOL_TS_FAULTS_SCALE ?? 1) || 1);

/** `n` requests, scaled. */
export const scaled = (n: number): number => Math.round(n * FAULT_SCALE);
