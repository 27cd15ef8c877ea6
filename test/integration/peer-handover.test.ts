/**
 * Hand-over between the real Python `nodepool-launcher` (../shared/peers) and ours, both ways,
 * on one ZooKeeper and one nodepool.yaml (a static backing provider and a metastatic provider).
 *
 * - Python → ours: Python serves the metastatic provider (ours stands back, docs/coexistence.md)
 *   and holds two requests locked and `pending`, waiting for backing nodes; it is SIGTERMed
 *   (`os._exit`: its locks live until its session expires). Ours must take both requests over
 *   through its hand-over path, not its 60 s cleanup pass (set to 10 minutes here), and serve
 *   them on the backing nodes Python obtained. The wait after Python's death is printed beside
 *   the bound of issue 14 (session timeout + 5 s); `npm run bench -- mixed-fleet` reports it too.
 * - ours → Python: our launcher process is SIGKILLed under load; Python serves everything that
 *   follows, no request is lost and no host or backing slot goes to two jobs.
 */
import { sleep, waitUntil } from '../support/engine-harness';
import { startLauncherProcess, type LauncherProcess } from '../support/launcher-process';
import { JobLoad, defaultHoldKeys } from '../support/mixed-fleet-load';
import { describeWithPeer } from '../support/peer-fixture';
import { ZuulRequestor, type NodeSet } from '../support/zuul-requestor';

jest.setTimeout(180_000);

const SESSION_TIMEOUT = 6;
const SLOTS = 2;

describeWithPeer('hand-over between a real Python launcher and ours', (f) => {
  let oursProcess: LauncherProcess | undefined;
  afterEach(async () => {
    await oursProcess?.kill9();
    oursProcess = undefined;
  });

  /** Static `backing` (`hosts` hosts of label bk, `staticHosts` of small) and metastatic `meta` (ms on bk). */
  function writeConfig(name: string, hosts: number, staticHosts = 0, graceTime = 300): string {
    const backing = Array.from({ length: hosts }, (_, i) => `\n          - name: fake-backing-${i}\n            labels: [bk]\n            host-key-checking: false`).join('');
    const small = Array.from({ length: staticHosts }, (_, i) => `\n          - name: fake-host-${i}\n            labels: [small]\n            host-key-checking: false`).join('');
    return f.config(name,
      `labels:\n  - name: bk\n  - name: ms\n  - name: small\nproviders:\n  - name: backing\n    driver: static\n    pools:\n      - name: main\n        nodes:${backing}${small ? `\n      - name: small\n        nodes:${small}` : ''}\n` +
        `  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
        `          - name: ms\n            backing-label: bk\n            max-parallel-jobs: ${SLOTS}\n            grace-time: ${graceTime}\n`, SESSION_TIMEOUT);
  }

  test('Python → ours: requests Python had locked are taken over by the hand-over path', async () => {
    const zuul = new ZuulRequestor(f.zk, { pollMs: 500 });
    const config = writeConfig('python-to-ours', 2);
    await f.startOurs(config, 'ts-launcher', { cleanupIntervalMs: 600_000 });
    await waitUntil('backing records', async () => (await f.zk.getNodes()).filter((n) => n.provider === 'backing' && n.state === 'ready').length === 2);
    const python = await f.startPython(config);

    // Every slot of both backing nodes taken by a job (Python serves them: ours stands back).
    const held: NodeSet[] = [];
    await Promise.all(Array.from({ length: 2 * SLOTS }, async () => {
      const sub = await zuul.submit({ labels: ['ms'] });
      const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 120_000).catch((err: Error) => {
        // Python's side of the story, for whoever reads the failure.
        const lines = python.log().split('\n').filter((l) => /MetastaticAdapter|Traceback|rror|Reset lost|[Dd]eclin/.test(l));
        throw new Error(`${err.message}\nPython's metastatic log:\n${lines.slice(-60).join('\n')}`);
      });
      held.push(await zuul.accept(req));
    }));
    const backingIds = new Set(held.flatMap((s) => s.nodes.map((n) => String((n.driver_data as { backing_node: string }).backing_node))));
    expect(backingIds.size).toBe(2);
    // Two more: Python accepts them and waits for backing nodes that cannot come.
    const waiting = [await zuul.submit({ labels: ['ms'] }), await zuul.submit({ labels: ['ms'] })];
    await waitUntil('Python holding both requests pending', async () => {
      const states = await Promise.all(waiting.map((w) => f.zk.getNodeRequest(w.id)));
      return states.every((r) => r?.state === 'pending');
    }, 30_000);

    const died = Date.now();
    await python.term();
    // Two jobs end: their slots free up once the used nodes are deleted (by us, after the hand-over).
    for (const set of held.splice(0, 2)) await zuul.release(set);
    const done = await Promise.all(waiting.map((w) => zuul.waitFor(w.id, ['fulfilled', 'failed'], 60_000)));
    const waits = done.map(() => Date.now() - died);
    console.log(`Python → ours: requests Python had locked served ${Math.max(...waits)} ms after it died (bound: session timeout ${SESSION_TIMEOUT} s + 5 s)`);
    expect(done.map((r) => r.state)).toEqual(['fulfilled', 'fulfilled']);
    // Served on the backing nodes Python obtained (adopted), not on new ones.
    const sets = await Promise.all(done.map((r) => zuul.accept(r)));
    for (const set of sets) expect(backingIds.has(String((set.nodes[0].driver_data as { backing_node: string }).backing_node))).toBe(true);
    for (const set of [...sets, ...held]) await zuul.release(set);
  });

  test('ours → Python: our launcher killed under load; Python serves on, nothing lost, nothing held twice', async () => {
    const zuul = new ZuulRequestor(f.zk, { pollMs: 500 });
    // Backing nodes released 2 s after their last job and a spare backing host: Python's
    // metastatic waits for the backing node it requested even when a slot frees elsewhere
    // meanwhile (ours takes the freed slot), so with every host held that wait would be endless.
    const config = writeConfig('ours-to-python', 3, 8, 2);
    oursProcess = await startLauncherProcess(config, 'ts-launcher-proc', SESSION_TIMEOUT);
    await waitUntil('our records', async () => (await f.zk.getNodes()).filter((n) => n.state === 'ready').length === 11, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${oursProcess?.stderr().slice(-3000)}`);
    });
    await f.startPython(config, { cleanupIntervalSec: 5, deleteIntervalSec: 1 });
    const staticLoad = new JobLoad({ zuul, labels: ['small'], workers: 6, holdMs: [100, 600], requestTimeoutMs: 90_000 });
    const metaLoad = new JobLoad({ zuul, labels: ['ms'], workers: 3, holdMs: [100, 600], requestTimeoutMs: 90_000, holdKeys: (n) => defaultHoldKeys(n, 1, SLOTS) });
    staticLoad.start();
    metaLoad.start();
    await sleep(4_000);
    const before = staticLoad.counts.fulfilled + metaLoad.counts.fulfilled;
    await oursProcess.kill9();
    await sleep(12_000);
    const [s, m] = [await staticLoad.stop(), await metaLoad.stop()];
    console.log(`ours → Python: ${before} fulfilled before our launcher was killed, ${s.fulfilled + m.fulfilled - before} after; ` +
      `lost ${s.lost + m.lost}, failed ${s.failed + m.failed}, double holds ${s.doubleHolds + m.doubleHolds}; max wait ${Math.max(...s.waits, ...m.waits)} ms`);
    expect([...s.doubleHoldDetails, ...m.doubleHoldDetails]).toEqual([]);
    expect([...s.errors, ...m.errors]).toEqual([]);
    expect(s.lost + m.lost + s.failed + m.failed).toBe(0);
    expect(s.fulfilled + m.fulfilled).toBeGreaterThan(before);
  });
});
