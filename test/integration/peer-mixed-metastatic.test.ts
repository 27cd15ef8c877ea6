/**
 * A mixed fleet on one metastatic provider and its static backing provider: the real Python
 * `nodepool-launcher` (../shared/peers) and ours run the same nodepool.yaml on one ZooKeeper.
 * Ours serves alone first (it obtains backing nodes and hands out slots), then Python joins
 * (ours stands back from the metastatic provider, docs/coexistence.md) under a Zuul-like load
 * for six of Python's cleanup periods (5 s here; its backing-node release runs in that pass).
 * Counted: requests fulfilled and lost, backing nodes held by more jobs than max-parallel-jobs
 * and backing slots held twice, live records per backing host slot, Python's `nodepool list`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { sleep, waitUntil } from '../support/engine-harness';
import { JobLoad, RecordMonitor, defaultHoldKeys } from '../support/mixed-fleet-load';
import {
  detectPeer, preparePeer, runPythonCli, startPeerZooKeeper, startPythonLauncher, writePeerConfig, type PeerZooKeeper,
  type PythonLauncher,
} from '../support/nodepool-peer';
import { testSettings } from '../support/test-settings';
import { ZuulRequestor } from '../support/zuul-requestor';

const peer = detectPeer();
if (!peer.available) console.warn(`Python Nodepool peer tests skipped: ${peer.reason}`);
const describePeer = peer.available ? describe : describe.skip;

jest.setTimeout(180_000);

const SLOTS = 2;
const ALONE_MS = 8_000;
const MIXED_MS = Number(process.env.PEER_LOAD_MS ?? 30_000);

describePeer('beside a real Python launcher on one metastatic provider', () => {
  let pzk: PeerZooKeeper;
  let client: ZkClient;
  let zk: NodepoolZk;
  let tmp: string;
  let source: string;
  let config: string;
  let ours: Launcher | undefined;
  let python: PythonLauncher | undefined;

  beforeAll(async () => {
    source = preparePeer((peer as { tarball: string }).tarball);
    pzk = await startPeerZooKeeper();
    client = new ZkClient({ hosts: pzk.connectString });
    await client.connect();
    zk = new NodepoolZk(client, new CaptureLogger());
    await zk.startCache();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-meta-'));
    const hosts = Array.from({ length: 4 }, (_, i) => `\n          - name: fake-backing-${i}\n            labels: [bk]\n            host-key-checking: false`).join('');
    config = writePeerConfig(path.join(tmp, 'nodepool.yaml'), pzk,
      `labels:\n  - name: bk\n  - name: ms\nproviders:\n  - name: backing\n    driver: static\n    pools:\n      - name: main\n        nodes:${hosts}\n` +
        `  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
        `          - name: ms\n            backing-label: bk\n            max-parallel-jobs: ${SLOTS}\n            grace-time: 2\n`, 6);
  });

  afterAll(async () => {
    await python?.kill9();
    await ours?.kernel.stop();
    zk?.stopCache();
    await client?.close();
    await pzk?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('no backing slot beyond max-parallel-jobs, no request lost; Python lists every record', async () => {
    ours = await createLauncher(testSettings({ config, hostname: 'ts-launcher', log: { level: 'warn' } }));
    expect(ours.configErrors).toEqual([]);
    await ours.kernel.start();
    await waitUntil('backing records', async () => (await zk.getNodes()).filter((n) => n.provider === 'backing' && n.state === 'ready').length === 4);

    const monitor = new RecordMonitor(zk, 'backing');
    monitor.start();
    const load = new JobLoad({
      zuul: new ZuulRequestor(zk, { pollMs: 1000 }), labels: ['ms'], workers: 6, holdMs: [200, 1000], requestTimeoutMs: 90_000,
      holdKeys: (n) => defaultHoldKeys(n, 1, SLOTS),
    });
    load.start();
    await sleep(ALONE_MS);
    const aloneFulfilled = load.counts.fulfilled;
    python = await startPythonLauncher({ sourceRoot: source, configFile: config, zk: client, cleanupIntervalSec: 5, deleteIntervalSec: 1 });
    await sleep(MIXED_MS);
    const result = await load.stop();
    await monitor.stop();

    const byPython = (python.log().match(/Fulfilled node request/g) ?? []).length;
    console.log(`mixed metastatic fleet: ${aloneFulfilled} fulfilled by ours alone, then ${result.fulfilled - aloneFulfilled} in ${MIXED_MS / 1000} s mixed ` +
      `(Python fulfilled ${byPython} requests, backing requests included); ${result.lost} lost, ${result.failed} failed, ` +
      `${result.doubleHolds} double holds, max held ${JSON.stringify(result.maxHeld)}, max records per backing slot ${monitor.maxRecordsPerSlot}`);
    expect(result.doubleHoldDetails).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(result.lost).toBe(0);
    expect(result.failed).toBe(0);
    expect(monitor.duplicates).toEqual([]);
    expect(aloneFulfilled).toBeGreaterThan(0);
    expect(result.fulfilled).toBeGreaterThan(aloneFulfilled);
    expect(byPython).toBeGreaterThan(0);

    const list = await runPythonCli(source, config, ['list']);
    expect(list.stderr).not.toMatch(/Traceback/);
    expect(list.code).toBe(0);
    for (const node of await zk.getNodes()) {
      if (!list.stdout.includes(node.id as string) && (await zk.client.exists(`/nodepool/nodes/${node.id}`))) {
        throw new Error(`Python's nodepool list lacks node ${node.id} (${node.provider} ${node.state})`);
      }
    }
  });
});
