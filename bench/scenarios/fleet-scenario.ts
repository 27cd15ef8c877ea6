/**
 * Issue 17, "launchers added to a fleet add capacity": `recycle` (50 single-slot static hosts,
 * 1000 requests after 300 unmeasured, 20 outstanding; `args` as for `recycle`) served by N launchers that each run in a process of their own
 * (bench/support/launcher-child.ts), each with its share of the hosts, as a fleet runs them. The
 * requestor stays in the bench process. `fleet-1` is the reference for `fleet-2` and `fleet-4`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { BenchEnv, round, staticBody, type BenchResult } from '../support/bench-env';
import { runJobs } from '../support/job-runner';
import { loadFigures, meterLoad } from '../support/load-meter';
import { latencyFigures } from './static-scenarios';

/** A launcher child and a way to ask it for its counts. */
interface Child {
  proc: ChildProcessWithoutNullStreams;
  next: () => Promise<string>;
}

async function startChild(config: string, hostname: string): Promise<Child> {
  const root = path.resolve(__dirname, '../..');
  // BENCH_CPU_PROF=DIR: each launcher writes a V8 CPU profile there.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...prof, '-r', './bin/ts-register.js', 'bench/support/launcher-child.ts', config, hostname], { cwd: root });
  proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`launcher ${hostname} exited`);
    return value as string;
  };
  if ((await next()) !== 'ready') throw new Error(`launcher ${hostname} did not start`);
  return { proc, next };
}

async function counts(child: Child): Promise<Record<string, number>> {
  child.proc.stdin.write('ops\n');
  return JSON.parse(await child.next()) as Record<string, number>;
}

function opsOf(c: Record<string, number>): number {
  return Object.entries(c).filter(([k]) => k !== 'cpuMs').reduce((sum, [, v]) => sum + v, 0);
}

async function fleet(env: BenchEnv, launchers: number, args: string[]): Promise<BenchResult> {
  const total = Number(args[0] ?? 1000);
  const warmUp = Number(args[1] ?? 300);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-fleet-'));
  const children: Child[] = [];
  try {
    for (let i = 0, offset = 0; i < launchers; i++) {
      const hosts = Math.floor(50 / launchers) + (i < 50 % launchers ? 1 : 0);
      const file = path.join(tmp, `fleet-${i}.yaml`);
      fs.writeFileSync(file, `zookeeper-servers:\n  - host: ${env.server.host}\n    port: ${env.server.port}\n${staticBody(`static-fleet-${i}`, hosts, { offset })}`);
      children.push(await startChild(file, `fleet-${launchers}-${i}`));
      offset += hosts;
    }
    await env.waitReady(50);
    if (warmUp > 0) {
      await runJobs(env.zuul, { total: warmUp, concurrency: 20, labels: ['small'] });
      await env.waitReady(50);
    }
    const before = await Promise.all(children.map(counts));
    const endLoad = await meterLoad(env.server);
    const run = await runJobs(env.zuul, { total, concurrency: 20, labels: ['small'] });
    const load = await endLoad();
    await new Promise((r) => setTimeout(r, 500));
    const after = await Promise.all(children.map(counts));
    const ops = after.reduce((sum, c, i) => sum + opsOf(c) - opsOf(before[i]), 0);
    const cpuMs = after.reduce((sum, c, i) => sum + c.cpuMs - before[i].cpuMs, 0);
    if (process.env.BENCH_OPS) {
      after.forEach((c, i) => console.log(JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'cpuMs').map(([k, v]) => [k, round((v - (before[i][k] ?? 0)) / total, 2)])))));
    }
    return {
      scenario: `fleet-${launchers}`,
      parameters: { requests: total, warmUp, outstanding: 20, nodes: 50, maxParallelJobs: 1, launchers, processes: 'one per launcher' },
      figures: [
        { name: 'throughput', value: round((run.latencies.length / run.elapsedMs) * 1000), unit: 'fulfilled/s' },
        ...latencyFigures(run.latencies),
        { name: 'launcher ZooKeeper ops per request', value: round(ops / total) },
        { name: 'launcher CPU per request (all launchers)', value: round(cpuMs / total, 2), unit: 'ms' },
        // The benchmark process here is the requestor alone; the launchers are the line above.
        ...loadFigures(load, run.latencies.length, run.elapsedMs).filter((f) => !f.name.startsWith('both')),
        { name: 'failed', value: run.failed },
      ],
    };
  } finally {
    for (const c of children) c.proc.stdin.write('stop\n');
    await Promise.all(children.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r(undefined) : c.proc.once('exit', r)))));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** One launcher process: the reference. */
export const fleet1 = (env: BenchEnv, args: string[]): Promise<BenchResult> => fleet(env, 1, args);
/** Two launcher processes. */
export const fleet2 = (env: BenchEnv, args: string[]): Promise<BenchResult> => fleet(env, 2, args);
/** Four launcher processes. */
export const fleet4 = (env: BenchEnv, args: string[]): Promise<BenchResult> => fleet(env, 4, args);
