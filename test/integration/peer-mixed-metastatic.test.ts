/**
 * A mixed fleet on one metastatic provider and its static backing provider: the real Python
 * `nodepool-launcher` (../shared/peers) and ours run the same nodepool.yaml on one ZooKeeper.
 * Ours serves alone first (it obtains backing nodes and hands out slots), then Python joins
 * (ours stands back from the metastatic provider, docs/coexistence.md) under a Zuul-like load
 * for five of Python's cleanup periods (3 s here; its backing-node release runs in that pass).
 * Counted: requests fulfilled and lost, backing nodes held by more jobs than max-parallel-jobs
 * and backing slots held twice, live records per backing host slot, Python's `nodepool list`.
 */
import { sleep, waitUntil } from '../support/engine-harness';
import { JobLoad, RecordMonitor, defaultHoldKeys } from '../support/mixed-fleet-load';
import { describeWithPeer } from '../support/peer-fixture';
import { ZuulRequestor } from '../support/zuul-requestor';

jest.setTimeout(180_000);

const SLOTS = 2;
const ALONE_MS = 4_000;
const MIXED_MS = Number(process.env.PEER_LOAD_MS ?? 15_000);

describeWithPeer('beside a real Python launcher on one metastatic provider', (f) => {
  test('no backing slot beyond max-parallel-jobs, no request lost; Python lists every record', async () => {
    const hosts = Array.from({ length: 4 }, (_, i) => `\n          - name: fake-backing-${i}\n            labels: [bk]\n            host-key-checking: false`).join('');
    const config = f.config('mixed-meta',
      `labels:\n  - name: bk\n  - name: ms\nproviders:\n  - name: backing\n    driver: static\n    pools:\n      - name: main\n        nodes:${hosts}\n` +
        `  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
        `          - name: ms\n            backing-label: bk\n            max-parallel-jobs: ${SLOTS}\n            grace-time: 2\n`, 6);
    await f.startOurs(config);
    await waitUntil('backing records', async () => (await f.zk.getNodes()).filter((n) => n.provider === 'backing' && n.state === 'ready').length === 4);

    const monitor = new RecordMonitor(f.zk, 'backing');
    monitor.start();
    const load = new JobLoad({
      zuul: new ZuulRequestor(f.zk, { pollMs: 1000 }), labels: ['ms'], workers: 6, holdMs: [200, 1000], requestTimeoutMs: 90_000,
      holdKeys: (n) => defaultHoldKeys(n, 1, SLOTS),
    });
    load.start();
    await sleep(ALONE_MS);
    const aloneFulfilled = load.counts.fulfilled;
    const python = await f.startPython(config, { cleanupIntervalSec: 3, deleteIntervalSec: 1 });
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
    // Python served the metastatic requests while ours stood back (ours, faster to see new
    // requests, would otherwise take nearly all of them and Python would serve none).
    expect(byPython).toBeGreaterThan(0);

    await f.expectPythonListsAll(config);
  });
});
