/**
 * Static-label scenarios of issue 7: `sequential`, `recycle`, `burst`, `two-launchers`, `scale`;
 * `four-launchers` of issue 17.
 * Each starts its own ZooKeeper and launcher(s); the engine runs with its default timings (the
 * request watch is what makes it fast, not a short poll).
 */
import { BenchEnv, percentile, round, staticBody, type BenchResult } from '../support/bench-env';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runJobs, type JobRunResult } from '../support/job-runner';
import { loadFigures, meterLoad } from '../support/load-meter';
import { ReadyWatcher } from '../support/ready-watcher';

/** p50/p95/p99/max of submit→fulfilled, with optional targets. */
export function latencyFigures(latencies: number[], targets: Record<string, string> = {}): BenchResult['figures'] {
  return [
    { name: 'p50 submit→fulfilled', value: round(percentile(latencies, 50)), unit: 'ms', target: targets.p50 },
    { name: 'p95 submit→fulfilled', value: round(percentile(latencies, 95)), unit: 'ms', target: targets.p95 },
    { name: 'p99 submit→fulfilled', value: round(percentile(latencies, 99)), unit: 'ms' },
    { name: 'max submit→fulfilled', value: round(Math.max(...latencies)), unit: 'ms' },
  ];
}

/** ZooKeeper requests per fulfilled request by operation, between two operationCounts snapshots. */
function opsPerRequest(before: Record<string, number>, after: Record<string, number>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) out[op] = round(d / requests, 2);
  }
  return out;
}

/** 30 requests one at a time; ready nodes waiting. */
export async function sequential(env: BenchEnv): Promise<BenchResult> {
  await env.launcher('seq', staticBody('static-seq', 1, { parallel: 30 }));
  await env.waitReady(30);
  const run = await runJobs(env.zuul, { total: 30, concurrency: 1, labels: ['small'] });
  return {
    scenario: 'sequential',
    parameters: { requests: 30, concurrency: 1, nodes: 30 },
    figures: [...latencyFigures(run.latencies, { p50: '≤ 20 ms' }), { name: 'failed', value: run.failed }],
  };
}

/**
 * `recycle` on `launchers` launchers. `args`: requests measured (default 1000) and warm-up
 * requests before them (default 300). The warm-up is not measured: right after start both
 * ZooKeeper's JIT and V8's are still compiling, and a run of a few hundred requests from a cold
 * start measured mostly that (the same configuration gave 140/s cold and 200/s warm).
 */
async function recycleOn(env: BenchEnv, name: string, launchers: number, args: string[]): Promise<BenchResult> {
  const total = Number(args[0] ?? 1000);
  const warmUp = Number(args[1] ?? 300);
  // 50 hosts split as evenly as whole hosts go (4 launchers: 13, 13, 12, 12).
  for (let i = 0, offset = 0; i < launchers; i++) {
    const hosts = Math.floor(50 / launchers) + (i < 50 % launchers ? 1 : 0);
    // BENCH_RENDEZVOUS_MS=0 turns the work split off (every launcher races, as before issue 17).
    const rendezvousDelayMs = process.env.BENCH_RENDEZVOUS_MS ? Number(process.env.BENCH_RENDEZVOUS_MS) : undefined;
    await env.launcher(`${name}-${i}`, staticBody(`static-${name}-${i}`, hosts, { offset }), { rendezvousDelayMs });
    offset += hosts;
  }
  await env.waitReady(50);
  if (warmUp > 0) {
    await runJobs(env.zuul, { total: warmUp, concurrency: 20, labels: ['small'] });
    await env.waitReady(50);
  }
  const watcher = new ReadyWatcher(env.client);
  await watcher.start();
  const opsBefore = env.launchers.map((l) => BenchEnv.operations(l));
  const countsBefore = env.launchers.map((l) => BenchEnv.operationCounts(l));
  const reads = process.env.BENCH_OPS ? env.launchers.map((l) => BenchEnv.countReads(l)) : [];
  const endLoad = await meterLoad(env.server);
  const run = await runJobs(env.zuul, { total, concurrency: 20, labels: ['small'], onReleased: (n, at) => watcher.noteReleased(n, at) });
  const load = await endLoad();
  await new Promise((r) => setTimeout(r, 500));
  watcher.stop();
  const ops = env.launchers.reduce((sum, l, i) => sum + BenchEnv.operations(l) - opsBefore[i], 0);
  if (process.env.BENCH_OPS) {
    env.launchers.forEach((l, i) => console.log(JSON.stringify({ ...opsPerRequest(countsBefore[i], BenchEnv.operationCounts(l), total), ...opsPerRequest({}, reads[i], total) })));
  }
  return {
    scenario: name,
    parameters: { requests: total, warmUp, outstanding: 20, nodes: 50, maxParallelJobs: 1, launchers },
    figures: [
      { name: 'throughput', value: round((run.latencies.length / run.elapsedMs) * 1000), unit: 'fulfilled/s', target: '≥ 200/s' },
      ...latencyFigures(run.latencies, { p95: '≤ 100 ms' }),
      { name: 'p50 used→ready', value: round(percentile(watcher.latencies, 50)), unit: 'ms' },
      { name: 'p95 used→ready', value: round(percentile(watcher.latencies, 95)), unit: 'ms' },
      { name: 'launcher ZooKeeper ops per request', value: round(ops / total) },
      ...loadFigures(load, run.latencies.length, run.elapsedMs),
      { name: 'failed', value: run.failed },
    ],
  };
}

/** 1000 requests (after 300 unmeasured), 20 outstanding, 50 single-slot static nodes returned at once. */
export async function recycle(env: BenchEnv, args: string[]): Promise<BenchResult> {
  return recycleOn(env, 'recycle', 1, args);
}

/** `recycle` with two launchers, each with half of the hosts. */
export async function twoLaunchers(env: BenchEnv, args: string[]): Promise<BenchResult> {
  return recycleOn(env, 'two-launchers', 2, args);
}

/** `recycle` with four launchers (issue 17: more launchers must add capacity). */
export async function fourLaunchers(env: BenchEnv, args: string[]): Promise<BenchResult> {
  return recycleOn(env, 'four-launchers', 4, args);
}

/** 50 requests at once on 50 ready nodes. */
export async function burst(env: BenchEnv): Promise<BenchResult> {
  await env.launcher('burst', staticBody('static-burst', 50));
  await env.waitReady(50);
  const t0 = performance.now();
  const run = await runJobs(env.zuul, { total: 50, concurrency: 50, labels: ['small'] });
  return {
    scenario: 'burst',
    parameters: { requests: 50, nodes: 50 },
    figures: [
      { name: 'all fulfilled after', value: round(Math.max(...run.latencies)), unit: 'ms', target: '≤ 250 ms' },
      ...latencyFigures(run.latencies),
      { name: 'wall time incl. accept/release', value: round(performance.now() - t0), unit: 'ms' },
      { name: 'failed', value: run.failed },
    ],
  };
}

/** 10 000 static nodes, 1 000 requests outstanding; the requestor runs in a child process. */
export async function scale(env: BenchEnv, args: string[]): Promise<BenchResult> {
  const nodes = Number(args[0] ?? 10_000);
  const requests = Number(args[1] ?? 1_000);
  const tReg = performance.now();
  const launcher = await env.launcher('scale', staticBody('static-scale', nodes));
  await env.waitReady(nodes, 1_800_000);
  const registerMs = performance.now() - tReg;
  const ops0 = BenchEnv.operations(launcher);
  const counts0 = BenchEnv.operationCounts(launcher);
  const cpu0 = process.cpuUsage();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const run = await runRequestorChild(env.server.connectString, requests, requests, 'small');
  const drainMs = performance.now() - t0;
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const ops = BenchEnv.operations(launcher) - ops0;
  if (process.env.BENCH_OPS) console.log(JSON.stringify(opsPerRequest(counts0, BenchEnv.operationCounts(launcher), Math.max(1, run.latencies.length))));
  return {
    scenario: 'scale',
    parameters: { nodes, requests, note: 'the requestor runs in a child process: RSS and CPU are the launcher\'s (plus this harness\' small share)' },
    figures: [
      { name: 'registration of all nodes', value: round(registerMs / 1000), unit: 's' },
      { name: 'time to drain', value: round(drainMs / 1000, 2), unit: 's' },
      { name: 'launcher peak RSS while draining', value: round(peakRss / 2 ** 20), unit: 'MB', target: '≤ 250 MB' },
      { name: 'JS heap used after draining', value: round(process.memoryUsage().heapUsed / 2 ** 20), unit: 'MB' },
      { name: 'external + array buffers after draining', value: round((process.memoryUsage().external + process.memoryUsage().arrayBuffers) / 2 ** 20), unit: 'MB' },
      { name: 'launcher CPU while draining (user+system)', value: round((cpu.user + cpu.system) / 1e6, 1), unit: 's' },
      { name: 'launcher ZooKeeper ops per fulfilled request', value: round(ops / Math.max(1, run.latencies.length)), target: '≤ 12' },
      ...latencyFigures(run.latencies),
      { name: 'failed', value: run.failed },
    ],
  };
}

/** Runs bench/support/requestor-child.ts and returns its result. */
async function runRequestorChild(hosts: string, total: number, concurrency: number, label: string): Promise<JobRunResult> {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['-r', './bin/ts-register.js', 'bench/support/requestor-child.ts', hosts, String(total), String(concurrency), label], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`requestor child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop() as string) as JobRunResult;
}
