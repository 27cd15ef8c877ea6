/**
 * `hostile` (issue 19): a Zuul-like load on a static provider, measured for a while; then a few
 * hundred hostile znodes written from outside with the real kazoo (malformed and oversized
 * request and node bodies, requests that can never be served, junk children in the lock dirs of
 * ready nodes) while the load goes on, and the load measured again once they are written. Prints
 * the throughput before, during and after, and the launcher process's idle CPU before and after.
 * Args: [seconds per phase = 15] [hostile znodes = 300] [junk lock children: 1 = yes (default), 0 = no].
 */
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { Metrics } from '../../src/plugins/metrics';
import type { PromMetrics } from '../../src/kernel/services/prom-metrics';
import type { NodepoolZk } from '../../src/zk/nodepool-zk';
import { hostileZnodes, junkLockChild } from '../../test/support/hostile-records';
import { KazooPeer } from '../../test/support/kazoo-peer';
import type { ZuulRequestor } from '../../test/support/zuul-requestor';
import { BenchEnv, round, staticBody, type BenchResult } from '../support/bench-env';

const NODES = 20;
const CONCURRENCY = 10;

/** Jobs fulfilled (submit, fulfilled, accept, release) by `concurrency` workers in `ms`. */
async function runFor(zuul: ZuulRequestor, ms: number, concurrency: number, going?: () => boolean): Promise<{ done: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  const end = Date.now() + ms;
  const more = going ?? ((): boolean => Date.now() < end);
  let done = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (more()) {
      const sub = await zuul.submit({ labels: ['small'] });
      const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 120_000);
      if (req.state !== 'fulfilled') {
        failed++;
        await zuul.cancel(sub.id);
        continue;
      }
      await zuul.release(await zuul.accept(req));
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { done, failed, seconds: (performance.now() - t0) / 1000 };
}

/** {@link runFor} until `going` turns false. */
async function runWhile(zuul: ZuulRequestor, going: () => boolean, concurrency: number): Promise<{ done: number; failed: number; seconds: number }> {
  return runFor(zuul, 0, concurrency, going);
}

/** This process's CPU over `ms` with no load running: % of one core. */
async function idleCpu(ms: number): Promise<number> {
  const start = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / ms) * 100;
}

/** See the module comment. */
export async function hostile(env: BenchEnv, args: string[]): Promise<BenchResult> {
  const seconds = Number(args[0] ?? 15);
  const count = Number(args[1] ?? 300);
  const junk = (args[2] ?? '1') !== '0';
  const launcher = await env.launcher('hostile', staticBody('static-hostile', NODES));
  await env.waitReady(NODES);
  const zk = launcher.kernel.container.get<ZooKeeper>(ZooKeeper) as NodepoolZk;
  const peer = await KazooPeer.start(env.server.connectString);
  try {
    await runFor(env.zuul, 3000, CONCURRENCY); // warm-up
    await env.waitReady(NODES);
    const cpuBefore = await idleCpu(5000);
    const before = await runFor(env.zuul, seconds * 1000, CONCURRENCY);
    await env.waitReady(NODES);

    // Junk in every ready node's lock dir first (a node used meanwhile would get an empty
    // znode re-created by kazoo's makepath instead), then the hostile records under load.
    const ready = junk ? (await env.zk.getNodes()).filter((n) => n.state === 'ready' && !n.allocated_to).map((n) => n.id as string) : [];
    await peer.create(ready.map((id) => junkLockChild(id)));
    const t0 = performance.now();
    let writing = true;
    const injection = peer.create(hostileZnodes(count, 'small')).finally(() => (writing = false));
    const during = await runWhile(env.zuul, () => writing, CONCURRENCY);
    await injection;
    const injectMs = performance.now() - t0;
    const after = await runFor(env.zuul, seconds * 1000, CONCURRENCY);
    await env.waitReady(NODES);
    await new Promise((r) => setTimeout(r, 2000));
    const cpuAfter = await idleCpu(5000);

    const samples = await (launcher.kernel.container.get<Metrics>(Metrics) as PromMetrics).render();
    const bad = [...samples.matchAll(/^nodepool_bad_records_total\{kind="([^"]+)"\} (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');
    // Optional: lets the same scenario run against a tree from before issue 19 for comparison.
    const parses = zk.parseCounts?.();
    const rate = (r: { done: number; seconds: number }): number => r.done / r.seconds;
    return {
      scenario: 'hostile',
      parameters: { staticNodes: NODES, concurrency: CONCURRENCY, secondsPerPhase: seconds, hostileZnodes: count, junkLockChildren: ready.length },
      figures: [
        { name: 'throughput before injection', value: round(rate(before)), unit: 'jobs/s' },
        { name: 'throughput while they are written', value: round(rate(during)), unit: 'jobs/s' },
        { name: `throughput in the ${seconds} s after`, value: round(rate(after)), unit: 'jobs/s' },
        { name: 'after / before', value: round((rate(after) / rate(before)) * 100), unit: '%', target: '≥ 80 %' },
        { name: 'failed jobs (before, during, after)', value: `${before.failed}, ${during.failed}, ${after.failed}` },
        { name: 'writing the hostile znodes took (kazoo)', value: round(injectMs / 1000, 1), unit: 's' },
        { name: 'idle CPU before (launcher process)', value: round(cpuBefore, 1), unit: '% of a core' },
        { name: 'idle CPU after', value: round(cpuAfter, 1), unit: '% of a core', target: 'back to baseline' },
        { name: 'bad records counted', value: bad || 'none' },
        { name: 'bodies parsed (node, request, component)', value: parses ? `${parses.node}, ${parses.request}, ${parses.component}` : 'not counted' },
      ],
    };
  } finally {
    await peer.stop();
  }
}
