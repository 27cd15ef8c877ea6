/**
 * Shared parts of the benchmarks: a real ZooKeeper (the Debian package, started here), launchers
 * built from a nodepool.yaml body, a Zuul-style requestor with its own client, percentiles, the
 * machine description, and the printed table + JSON file every scenario ends with.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalZooKeeper, type ZooKeeperServer } from '../../src/cli/local-zookeeper';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import type { LauncherEngineOptions } from '../../src/launcher/launcher-engine';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../../test/support/capture-logger';
import { testSettings } from '../../test/support/test-settings';
import { ZuulRequestor } from '../../test/support/zuul-requestor';

/** One figure of a result table. */
export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
  /** The issue's target, for the reader (never asserted). */
  target?: string;
}

/** What a scenario returns. */
export interface BenchResult {
  scenario: string;
  parameters: Record<string, unknown>;
  figures: Figure[];
}

/** The machine a figure was measured on. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

/** Percentile (nearest rank) of `values` (ms). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Rounds to `digits` decimals for display. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A running benchmark environment: ZooKeeper, a requestor, and the launchers started. */
export class BenchEnv {
  server!: ZooKeeperServer;
  client!: ZkClient;
  zk!: NodepoolZk;
  zuul!: ZuulRequestor;
  readonly launchers: Launcher[] = [];
  private tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-bench-'));

  async open(): Promise<void> {
    this.server = await startLocalZooKeeper({});
    this.client = new ZkClient({ hosts: this.server.connectString });
    await this.client.connect();
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    this.zuul = new ZuulRequestor(this.zk, { pollMs: 1000 });
  }

  /** Starts a launcher on a nodepool.yaml body (without zookeeper-servers). */
  async launcher(name: string, body: string, engine: LauncherEngineOptions = {}): Promise<Launcher> {
    const file = path.join(this.tmp, `${name}.yaml`);
    fs.writeFileSync(file, `zookeeper-servers:\n  - host: ${this.server.host}\n    port: ${this.server.port}\n${body}`);
    // No span exporter: the tests' in-memory one keeps every span, which would count as launcher memory.
    const launcher = await createLauncher(testSettings({ config: file, hostname: name, log: { level: 'error', format: 'json' }, tracing: { exporter: 'none' } }), { engine });
    if (launcher.configErrors.length) throw new Error(`config errors: ${JSON.stringify(launcher.configErrors)}`);
    await launcher.kernel.start();
    this.launchers.push(launcher);
    return launcher;
  }

  /** ZooKeeper requests a launcher's client has sent so far. */
  static operations(launcher: Launcher): number {
    const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
    return Object.values(client.operationCounts).reduce((a, b) => a + b, 0);
  }

  /** The launcher client's requests by operation. */
  static operationCounts(launcher: Launcher): Record<string, number> {
    const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
    return { ...client.operationCounts };
  }

  /**
   * From now on, the launcher's reads (`get`) by what they read: `get.node`, `get.request` (the
   * records, not their locks), `get.other`. The returned object fills as it goes.
   */
  static countReads(launcher: Launcher): Record<string, number> {
    const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
    const counts: Record<string, number> = {};
    const get = client.get.bind(client);
    client.get = (path, watch) => {
      const kind = /^\/nodepool\/nodes\/[^/]+$/.test(path) ? 'get.node' : /^\/nodepool\/requests\/[^/]+$/.test(path) ? 'get.request' : 'get.other';
      counts[kind] = (counts[kind] ?? 0) + 1;
      return get(path, watch);
    };
    // Listings, deletes and creates by what they touch (BENCH_OPS=2).
    if (process.env.BENCH_OPS === '2') {
      const kindOf = (path: string): string => path.replace(/\/\d{10}(?=\/|$)/g, '/N').replace(/\/\d{3}-\d{10}/g, '/R').replace(/__lock__\d+/g, '__lock__S').replace(/\/[0-9a-f]{32}__/g, '/U__');
      for (const op of ['getChildren', 'delete', 'create'] as const) {
        const original = (client[op] as (...args: unknown[]) => Promise<unknown>).bind(client);
        (client as unknown as Record<string, unknown>)[op] = (path: string, ...rest: unknown[]) => {
          const kind = `${op} ${kindOf(path)}`;
          counts[kind] = (counts[kind] ?? 0) + 1;
          return original(path, ...rest);
        };
      }
    }
    return counts;
  }

  /** Waits until `count` nodes are ready and unallocated. */
  async waitReady(count: number, timeoutMs = 600_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    // Until there are enough node znodes, count them only: reading every node each round (this
    // client has no cache) was garbage in the measured process while thousands registered.
    while ((await this.client.getChildren('/nodepool/nodes').catch(() => [])).length < count) {
      if (Date.now() > end) throw new Error(`fewer than ${count} nodes registered`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (;;) {
      const ready = (await this.zk.getNodes()).filter((n) => n.state === 'ready' && !n.allocated_to).length;
      if (ready >= count) return;
      if (Date.now() > end) throw new Error(`only ${ready} of ${count} nodes ready`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    for (const l of this.launchers) await l.kernel.stop().catch(() => undefined);
    await this.client?.close().catch(() => undefined);
    await this.server?.stop();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** A static provider body: `hosts` loopback hosts carrying `label`, checks off. */
export function staticBody(provider: string, hosts: number, opts: { label?: string; parallel?: number; offset?: number } = {}): string {
  const label = opts.label ?? 'small';
  const lines: string[] = [];
  for (let i = 0; i < hosts; i++) {
    const n = i + (opts.offset ?? 0);
    const host = `127.${Math.floor(n / 62500) % 250 + 1}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
    lines.push(`          - name: ${host}\n            labels: [${label}]\n            host-key-checking: false\n            max-parallel-jobs: ${opts.parallel ?? 1}`);
  }
  return `labels:\n  - name: ${label}\nproviders:\n  - name: ${provider}\n    driver: static\n    pools:\n      - name: main\n        nodes:\n${lines.join('\n')}\n`;
}

/** Prints the table and writes `bench/results/<scenario>.json`. */
export function report(result: BenchResult): void {
  const machine = machineInfo();
  const rows = result.figures.map((f) => [f.name, `${f.value}${f.unit ? ` ${f.unit}` : ''}`, f.target ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'target'][i].length));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`\n${result.scenario}  ${JSON.stringify(result.parameters)}`);
  console.log(line(['figure', 'value', 'target']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`);
  const dir = path.resolve(__dirname, '../results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${result.scenario}.json`), `${JSON.stringify({ ...result, machine }, null, 2)}\n`);
}
