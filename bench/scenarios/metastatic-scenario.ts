/**
 * `metastatic`: the `recycle` load on a metastatic label (`max-parallel-jobs: 4`) whose backing
 * nodes come from a static label served by a second launcher, through node requests.
 */
import { BenchEnv, percentile, round, staticBody, type BenchResult } from '../support/bench-env';
import { runJobs } from '../support/job-runner';
import { loadFigures, meterLoad } from '../support/load-meter';
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

/**
 * `args`: requests measured (default 1000) and warm-up requests before them (default 300; the
 * first of them also acquire the backing nodes). See recycleOn in static-scenarios.ts for why a
 * warm-up: a cold start measured mostly the JIT compilers.
 */
export async function metastatic(env: BenchEnv, args: string[]): Promise<BenchResult> {
  const total = Number(args[0] ?? 1000);
  const warmUp = Number(args[1] ?? 300);
  const backingHosts = 13; // 52 slots of 4
  await env.launcher('backing', staticBody('static-backing', backingHosts, { label: 'backing' }));
  await env.waitReady(backingHosts);
  const meta = await env.launcher('meta',
    `labels:\n  - name: user-label\nproviders:\n  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
      `          - name: user-label\n            backing-label: backing\n            max-parallel-jobs: 4\n            grace-time: 60\n`);
  // Warm-up: its first requests also acquire the backing nodes; their latency is shown apart.
  const warm = await runJobs(env.zuul, { total: Math.max(20, warmUp), concurrency: 20, labels: ['user-label'] });
  const ops0 = BenchEnv.operations(meta);
  const byPath = process.env.BENCH_OPS === 'paths' ? countByPath(meta.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient) : undefined;
  const endLoad = await meterLoad(env.server);
  const run = await runJobs(env.zuul, { total, concurrency: 20, labels: ['user-label'] });
  const load = await endLoad();
  const ops = BenchEnv.operations(meta) - ops0;
  if (byPath) {
    const rows = Object.entries(byPath()).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${(n / total).toFixed(2).padStart(7)}  ${k}`);
    console.log(`ops per request by path:\n${rows.join('\n')}`);
  }
  return {
    scenario: 'metastatic',
    parameters: { requests: total, warmUp: Math.max(20, warmUp), outstanding: 20, backingNodes: backingHosts, maxParallelJobs: 4 },
    figures: [
      { name: 'throughput', value: round((run.latencies.length / run.elapsedMs) * 1000), unit: 'fulfilled/s' },
      { name: 'p50 submit→fulfilled', value: round(percentile(run.latencies, 50)), unit: 'ms' },
      { name: 'p95 submit→fulfilled', value: round(percentile(run.latencies, 95)), unit: 'ms' },
      { name: 'p99 submit→fulfilled', value: round(percentile(run.latencies, 99)), unit: 'ms' },
      { name: 'warm-up p50 (backing nodes acquired)', value: round(percentile(warm.latencies, 50)), unit: 'ms' },
      { name: 'metastatic launcher ZooKeeper ops per request', value: round(ops / total) },
      ...loadFigures(load, run.latencies.length, run.elapsedMs),
      { name: 'failed', value: run.failed + warm.failed },
    ],
  };
}
