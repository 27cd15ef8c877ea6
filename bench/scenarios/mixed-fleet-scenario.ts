/**
 * `mixed-fleet`: a Python `nodepool-launcher` (the real one, ../shared/peers) and ours on one
 * static provider of 50 single-job hosts, both with production timings (Python: 60 s cleanup,
 * 5 s deleted-node worker), under 20 outstanding Zuul-like jobs. While both run, Python registers
 * the slots and deletes used records (docs/coexistence.md), so recycling runs at its pace.
 * Then Python is SIGTERMed (`os._exit`, a crash to ZooKeeper) with the load still on, and the
 * figures say how long ours needed to take registration back.
 *
 * Figures: throughput and waits of each phase, ZooKeeper operations per fulfilled request (ours,
 * and the server's total incl. Python and the requestor), double hand-outs, lost requests, and
 * the take-over time against the bound of issue 14 (session timeout + 5 s).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fourLetterWord } from '../../src/cli/local-zookeeper';
import { createLauncher } from '../../src/launcher/create-launcher';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../../test/support/capture-logger';
import { JobLoad, RecordMonitor, type JobLoadResult } from '../../test/support/mixed-fleet-load';
import { detectPeer, preparePeer, startPeerZooKeeper, startPythonLauncher, writePeerConfig } from '../../test/support/nodepool-peer';
import { testSettings } from '../../test/support/test-settings';
import { ZuulRequestor } from '../../test/support/zuul-requestor';
import { BenchEnv, percentile, round, type BenchResult, type Figure } from '../support/bench-env';

const HOSTS = 50;
const SESSION_TIMEOUT = 10;

async function serverPackets(host: string, port: number): Promise<number> {
  const mntr = await fourLetterWord(host, port, 'mntr', 2000);
  return Number(/zk_packets_received\s+(\d+)/.exec(mntr)?.[1] ?? NaN);
}

function phaseFigures(name: string, r: JobLoadResult): Figure[] {
  return [
    { name: `${name}: throughput`, value: round((r.fulfilled / r.elapsedMs) * 1000, 2), unit: 'fulfilled/s' },
    { name: `${name}: p50 submit→fulfilled`, value: round(percentile(r.waits, 50)), unit: 'ms' },
    { name: `${name}: p95 submit→fulfilled`, value: round(percentile(r.waits, 95)), unit: 'ms' },
    { name: `${name}: max submit→fulfilled`, value: round(Math.max(...r.waits)), unit: 'ms' },
    { name: `${name}: hosts handed to two jobs`, value: r.doubleHolds, target: '0' },
    { name: `${name}: requests lost or failed`, value: r.lost + r.failed, target: '0' },
  ];
}

/** See the module comment. `args[0]`: seconds of mixed load (default 60). */
export async function mixedFleet(_env: BenchEnv, args: string[]): Promise<BenchResult> {
  const mixedSec = Number(args[0] ?? 60);
  const peer = detectPeer();
  if (!peer.available) throw new Error(`the Python Nodepool peer is needed: ${peer.reason}`);
  const source = preparePeer(peer.tarball);
  const pzk = await startPeerZooKeeper();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mixed-'));
  const client = new ZkClient({ hosts: pzk.connectString });
  await client.connect();
  const zk = new NodepoolZk(client, new CaptureLogger());
  await zk.startCache();
  const hosts = Array.from({ length: HOSTS }, (_, i) => `\n          - name: fake-host-${i}\n            labels: [small]\n            host-key-checking: false`).join('');
  const config = writePeerConfig(path.join(tmp, 'nodepool.yaml'), pzk,
    `labels:\n  - name: small\nproviders:\n  - name: mixed\n    driver: static\n    pools:\n      - name: main\n        nodes:${hosts}\n`, SESSION_TIMEOUT);
  const ours = await createLauncher(testSettings({ config, hostname: 'bench-ts', log: { level: 'error', format: 'json' }, tracing: { exporter: 'none' } }));
  let python: Awaited<ReturnType<typeof startPythonLauncher>> | undefined;
  try {
    await ours.kernel.start();
    while ((await zk.getNodes()).filter((n) => n.state === 'ready').length < HOSTS) await new Promise((r) => setTimeout(r, 200));
    python = await startPythonLauncher({ sourceRoot: source, configFile: config, zk: client });
    const monitor = new RecordMonitor(zk, 'mixed', 250);
    monitor.start();
    const zuul = new ZuulRequestor(zk, { pollMs: 1000 });

    // Phase 1: both launchers.
    const ops0 = BenchEnv.operations(ours);
    const packets0 = await serverPackets(pzk.server.host, pzk.server.port);
    const load = new JobLoad({ zuul, labels: ['small'], workers: 20, holdMs: [0, 0], requestTimeoutMs: 120_000 });
    load.start();
    await new Promise((r) => setTimeout(r, mixedSec * 1000));
    const mixed = await load.stop();
    const ops = BenchEnv.operations(ours) - ops0;
    const packets = (await serverPackets(pzk.server.host, pzk.server.port)) - packets0;
    const byPython = (python.log().match(/Fulfilled node request/g) ?? []).length;

    // Phase 2: Python dies under load; ours takes registration back after its session expired.
    const after = new JobLoad({ zuul, labels: ['small'], workers: 20, holdMs: [0, 0], requestTimeoutMs: 120_000 });
    after.start();
    await new Promise((r) => setTimeout(r, 3000));
    const died = Date.now();
    await python.term();
    python = undefined;
    const before = new Set(await zk.getNodeIds());
    let takeover = NaN;
    while (Date.now() - died < (SESSION_TIMEOUT + 30) * 1000) {
      const fresh = (await zk.getNodes()).filter((n) => !before.has(n.id as string) && n.launcher === 'static driver');
      // A record registered after the death and not by Python (it is dead): ours took over.
      if (fresh.length > 0) {
        takeover = Date.now() - died;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 5000));
    const alone = await after.stop();
    await monitor.stop();
    return {
      scenario: 'mixed-fleet',
      parameters: { hosts: HOSTS, outstanding: 20, mixedSeconds: mixedSec, sessionTimeoutSec: SESSION_TIMEOUT, python: 'a0d1eb5, 60 s cleanup, 5 s deleter' },
      figures: [
        ...phaseFigures('mixed', mixed),
        { name: 'mixed: fulfilled by Python', value: byPython },
        { name: 'mixed: our ZooKeeper ops per request', value: round(ops / Math.max(1, mixed.fulfilled), 1) },
        { name: 'mixed: server packets per request (all clients)', value: round(packets / Math.max(1, mixed.fulfilled), 1) },
        { name: 'max live records per host slot', value: monitor.maxRecordsPerSlot, target: '1' },
        { name: 'Python SIGTERM → our first registration', value: takeover, unit: 'ms', target: `≤ ${(SESSION_TIMEOUT + 5) * 1000} ms` },
        ...phaseFigures('across the death', alone),
      ],
    };
  } finally {
    await python?.kill9();
    await ours.kernel.stop().catch(() => undefined);
    zk.stopCache();
    await client.close();
    await pzk.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
