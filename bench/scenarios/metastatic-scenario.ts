/**
 * `metastatic`: the `recycle` load on a metastatic label (`max-parallel-jobs: 4`) whose backing
 * nodes come from a static label served by a second launcher, through node requests.
 */
import { BenchEnv, percentile, round, staticBody, type BenchResult } from '../support/bench-env';
import { runJobs } from '../support/job-runner';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';

/**
 * `BENCH_OPS=paths`: counts the launcher client's operations by operation and path shape (ids
 * replaced by `*`), to see where a scenario's ZooKeeper ops go. Returns the counts so far.
 */
function countByPath(client: ZkClient): () => Record<string, number> {
  const counts: Record<string, number> = {};
  const target = client as unknown as { run: (path: string, operation: string, ...rest: unknown[]) => unknown };
  const run = target.run.bind(client);
  target.run = (path, operation, ...rest) => {
    const key = `${operation} ${path.replace(/[0-9a-f]{32}/g, '*').replace(/\d{10}/g, '*')}`;
    counts[key] = (counts[key] ?? 0) + 1;
    return run(path, operation, ...rest);
  };
  return () => ({ ...counts });
}

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
  const byPath = process.env.BENCH_OPS === 'paths' ? countByPath(meta.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient) : undefined;
  const run = await runJobs(env.zuul, { total: 200, concurrency: 20, labels: ['user-label'] });
  const ops = BenchEnv.operations(meta) - ops0;
  if (byPath) {
    const rows = Object.entries(byPath()).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${(n / 200).toFixed(2).padStart(7)}  ${k}`);
    console.log(`ops per request by path:\n${rows.join('\n')}`);
  }
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
