/**
 * Issue 17: a static provider keeps its registration lock between rounds while no other launcher
 * may serve it (three ZooKeeper operations per round saved), and lets go as soon as another
 * nodepool-ts launcher announces the provider: that one then registers beside it, and no slot
 * ever gets two records.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';
import { EngineHarness, waitUntil } from '../support/engine-harness';

jest.setTimeout(90000);
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const HOSTS = 4;
const BODY =
  'labels:\n  - name: small\nproviders:\n  - name: kept\n    driver: static\n    pools:\n      - name: main\n        nodes:\n' +
  Array.from({ length: HOSTS }, (_, i) => `          - name: 127.0.1.${i + 1}\n            labels: [small]\n            host-key-checking: false\n`).join('');
const LOCK_DIR = '/nodepool/static/kept/registration-lock';

/** Contender creates `l` makes in the registration lock dir from now on. */
function lockTakes(l: Launcher): { n: number } {
  const client = l.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  const count = { n: 0 };
  const create = client.create.bind(client);
  client.create = async (path, data, options) => {
    if (path.startsWith(`${LOCK_DIR}/`)) count.n++;
    return create(path, data, options);
  };
  return count;
}

/** Records per (host, slot) that hold the slot (every state but `deleting`/`deleted`). */
async function doubleBooked(): Promise<string[]> {
  const seen = new Map<string, number>();
  for (const n of await h.nodes((x) => x.provider === 'kept' && x.state !== 'deleting' && x.state !== 'deleted')) {
    const key = `${n.hostname}#${n.slot}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, count]) => count > 1).map(([key]) => key);
}

it('keeps the registration lock while alone, and hands it over when a second launcher comes', async () => {
  // No periodic sync on A: only the fleet change may make it let go while B starts.
  const a = await h.startLauncher('kept-a', BODY, { cleanupIntervalMs: 600000 });
  await waitUntil('every slot', async () => (await h.nodes((n) => n.state === 'ready')).length === HOSTS);
  const takesA = lockTakes(a);
  for (let i = 0; i < 5; i++) await h.zuul.runJob({ labels: ['small'] });
  await waitUntil('every slot again', async () => (await h.nodes((n) => n.state === 'ready' && !n.allocated_to)).length === HOSTS);
  // Five re-registration rounds (one each job), at most one new contender: the lock is kept
  // (the first round may still take it: right after the start the fleet view may be unsettled).
  expect(takesA.n).toBeLessThanOrEqual(1);
  expect(await h.client.getChildren(LOCK_DIR)).toHaveLength(1);

  // A second launcher of the same provider: A lets go, B takes the lock for its start sync.
  // (Had A kept the lock, B's start sync would wait 30 s for it: past this start wait.)
  const b = await h.startLauncher('kept-b', BODY, { providerStartWaitMs: 10000 });
  expect(b.engine.providerStates().map((p) => p.state)).toEqual(['running']);
  const takesB = lockTakes(b);
  const jobs = Array.from({ length: 12 }, () => h.zuul.runJob({ labels: ['small'], holdMs: 50 }));
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 100));
    expect(await doubleBooked()).toEqual([]);
  }
  await Promise.all(jobs);
  await waitUntil('every slot again', async () => (await h.nodes((n) => n.state === 'ready' && !n.allocated_to)).length === HOSTS);
  expect(await doubleBooked()).toEqual([]);
  // Shared now: both take the lock per round and neither keeps it.
  expect(takesA.n + takesB.n).toBeGreaterThan(0);
  await waitUntil('nobody keeps the lock', async () => (await h.client.getChildren(LOCK_DIR)).length === 0);
});
