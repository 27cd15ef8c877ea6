/**
 * `metastatic`: the `recycle` load on a metastatic label (`max-parallel-jobs: 4`) whose backing
 * nodes come from a static label served by a second launcher, through node requests.
 */
import { BenchEnv, percentile, round, staticBody, type BenchResult } from '../support/bench-env';
import { runJobs } from '../support/job-runner';

export async function metastatic(env: BenchEnv): Promise<BenchResult> {
  const backingHosts = 13; // 52 slots of 4
  await env.launcher('backing', staticBody('static-backing', backingHosts, { label: 'backing' }));
  await env.waitReady(backingHosts);
  const meta = await env.launcher('meta',
    `labels:\n  - name: user-label\nproviders:\n  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
      `          - name: user-label\n            backing-label: backing\n            max-parallel-jobs: 4\n            grace-time: 60\n`);
  // Warm-up: the first requests also acquire the backing nodes; measured separately.
  const warm = await runJobs(env.zuul, { total: 20, concurrency: 20, labels: ['user-label'] });
  const ops0 = BenchEnv.operations(meta);
  const run = await runJobs(env.zuul, { total: 200, concurrency: 20, labels: ['user-label'] });
  const ops = BenchEnv.operations(meta) - ops0;
  return {
    scenario: 'metastatic',
    parameters: { requests: 200, outstanding: 20, backingNodes: backingHosts, maxParallelJobs: 4 },
    figures: [
      { name: 'throughput', value: round((run.latencies.length / run.elapsedMs) * 1000), unit: 'fulfilled/s' },
      { name: 'p50 submit→fulfilled', value: round(percentile(run.latencies, 50)), unit: 'ms' },
      { name: 'p95 submit→fulfilled', value: round(percentile(run.latencies, 95)), unit: 'ms' },
      { name: 'p99 submit→fulfilled', value: round(percentile(run.latencies, 99)), unit: 'ms' },
      { name: 'warm-up p50 (backing nodes acquired)', value: round(percentile(warm.latencies, 50)), unit: 'ms' },
      { name: 'metastatic launcher ZooKeeper ops per request', value: round(ops / 200) },
      { name: 'failed', value: run.failed + warm.failed },
    ],
  };
}
