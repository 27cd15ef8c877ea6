/**
 * The load a scheduler puts on launchers: `concurrency` workers, each submitting a request the
 * Zuul way, waiting for `fulfilled`, accepting the nodes and returning them `used` at once, until
 * `total` requests were handled. Records submit→fulfilled latency of each.
 */
import type { ZuulRequestor } from '../../test/support/zuul-requestor';

/** Outcome of {@link runJobs}. */
export interface JobRunResult {
  /** submit→fulfilled, ms, in completion order. */
  latencies: number[];
  failed: number;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
}

/** Options of {@link runJobs}. */
export interface JobRunOptions {
  total: number;
  concurrency: number;
  labels: string[];
  /** Called right after a nodeset was returned `used`. */
  onReleased?: (nodes: Array<{ hostname: string | null; slot: number | null }>, at: number) => void;
  timeoutMs?: number;
}

/** See the module comment. */
export async function runJobs(zuul: ZuulRequestor, options: JobRunOptions): Promise<JobRunResult> {
  const latencies: number[] = [];
  let failed = 0;
  let started = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < options.total) {
      started++;
      const s = performance.now();
      const sub = await zuul.submit({ labels: options.labels });
      const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], options.timeoutMs ?? 120_000);
      if (req.state !== 'fulfilled') {
        failed++;
        await zuul.cancel(sub.id);
        continue;
      }
      latencies.push(performance.now() - s);
      const set = await zuul.accept(req);
      await zuul.release(set);
      options.onReleased?.(set.nodes.map((n) => ({ hostname: n.hostname, slot: n.slot })), performance.now());
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return { latencies, failed, elapsedMs: performance.now() - t0 };
}
