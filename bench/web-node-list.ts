/**
 * Benchmark (not a test): loads 6000 nodes (a third of them locked) into a real ZooKeeper,
 * starts the web app on a kernel, and prints latency figures of `/node-list` in text and JSON,
 * both as served (1 s body cache, Nodepool's behaviour) and regenerated on every request, plus
 * how long the cache took to fill and to see a change. Ends with the machine it ran on.
 *
 * Run: `npm run bench:web` (env BENCH_NODES, BENCH_REQUESTS to change the sizes).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kernel } from '../src/kernel/kernel';
import { quietLogger } from '../src/cli/cli-zk';
import { WebApp } from '../src/web/web-app';
import { Node } from '../src/zk/models/node';
import { NodepoolZk } from '../src/zk/nodepool-zk';
import { nodeLockPath } from '../src/zk/nodepool-paths';
import { ZkClient } from '../src/zk/zk-client';
import { mapLimit } from '../src/zk/zk-path';
import { testSettings } from '../test/support/test-settings';
import { startZooKeeper } from '../test/support/zookeeper-server';

const NODES = Number(process.env.BENCH_NODES ?? 6000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `n=${s.length} mean=${mean.toFixed(2)} p50=${q(0.5).toFixed(2)} p90=${q(0.9).toFixed(2)} p99=${q(0.99).toFixed(2)} max=${s[s.length - 1].toFixed(2)} ms`;
}

async function timeRequests(url: string, accept: string, count: number): Promise<{ line: string; bytes: number }> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { Accept: accept } });
    const body = await res.text();
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    bytes = body.length;
  }
  return { line: stats(samples), bytes };
}

async function main(): Promise<void> {
  const server = await startZooKeeper();
  const client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await client.connect();
  const zk = new NodepoolZk(client, quietLogger);
  let kernel: Kernel | undefined;
  try {
    let t0 = performance.now();
    const ids = await mapLimit(Array.from({ length: NODES }, (_, i) => i), 64, async (i) => {
      const node = new Node();
      Object.assign(node, {
        type: ['label-' + (i % 10)], provider: `provider-${i % 4}`, pool: 'main', external_id: `srv-${i}`,
        public_ipv4: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hostname: `np${i}`, launcher: 'bench',
        user_data: i % 5 === 0 ? { zuul_system: 'bench', project_name: 'p' } : null,
      });
      node.state = i % 3 === 0 ? 'in-use' : 'ready';
      await zk.createNode(node);
      // A third of the nodes carry a lock contender, as in-use nodes do under Zuul.
      if (i % 3 === 0) await client.create(`${nodeLockPath(node.id as string)}/${'0'.repeat(32)}__lock__`, Buffer.alloc(0), { sequential: true, ephemeral: true, makeParents: true });
      return node.id as string;
    });
    console.log(`loaded ${ids.length} nodes into ZooKeeper (${server.kind}) in ${(performance.now() - t0).toFixed(0)} ms`);

    let served: WebApp | undefined;
    let fresh: WebApp | undefined;
    kernel = await Kernel.create({
      settings: testSettings({ log: { level: 'error' } }),
      zookeeper: { hosts: server.connectString, sessionTimeout: 10000 },
      coreServices: (c) => [
        (served = new WebApp(c, { listen: { host: '127.0.0.1', port: 0 } })),
        (fresh = new WebApp(c, { listen: { host: '127.0.0.1', port: 0 }, cacheTtlMs: 0 })),
      ],
    });
    t0 = performance.now();
    await kernel.start();
    console.log(`kernel with two web apps started (caches filled by watches) in ${(performance.now() - t0).toFixed(0)} ms`);
    const servedUrl = `http://127.0.0.1:${served!.address()!.port}/node-list`;
    const freshUrl = `http://127.0.0.1:${fresh!.address()!.port}/node-list`;

    for (const [name, url, accept, count] of [
      ['text, as served (1 s body cache)', servedUrl, 'text/plain', REQUESTS],
      ['JSON, as served (1 s body cache)', servedUrl, 'application/json', REQUESTS],
      ['text, regenerated every request', freshUrl, 'text/plain', Math.ceil(REQUESTS / 4)],
      ['JSON, regenerated every request', freshUrl, 'application/json', Math.ceil(REQUESTS / 4)],
    ] as const) {
      const r = await timeRequests(url, accept, count);
      console.log(`/node-list ${name}: ${r.line}, body ${(r.bytes / 1024).toFixed(0)} KiB`);
    }

    // The body generation alone (no HTTP), what a request pays once per second per format.
    for (const json of [false, true]) {
      const gen: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        fresh!.cache.nodeList(json, undefined, undefined);
        gen.push(performance.now() - t);
      }
      console.log(`/node-list ${json ? 'JSON' : 'text'} body generation only, in process: ${stats(gen)}`);
    }

    // How soon a change in ZooKeeper shows up (watch → cache; the regenerating app has no body cache).
    const lags: number[] = [];
    for (let i = 0; i < 20; i++) {
      const node = (await zk.getNode(ids[i * 7])) as Node;
      node.comment = `change-${i}`;
      const start = performance.now();
      await zk.storeNode(node);
      for (;;) {
        const rows = (await (await fetch(`${freshUrl}.json?node_id=${node.id}`)).json()) as { comment: string }[];
        if (rows[0]?.comment === `change-${i}`) break;
      }
      lags.push(performance.now() - start);
    }
    console.log(`change visible on /node-list (store → answer): ${stats(lags)}`);
  } finally {
    await kernel?.stop();
    await client.close();
    await server.stop();
  }
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.arch()}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
