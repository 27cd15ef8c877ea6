/**
 * The coexistence rules (docs/coexistence.md) against a real ZooKeeper, with the foreign launcher
 * emulated by its component records only: a second ZooKeeper session writes a launcher and a
 * pool record with a Python Nodepool `version`, and closing that session is the launcher dying.
 * Each test checks a rule by what it changes in ZooKeeper; the real Python peer is exercised by
 * the peer-*.test.ts files.
 */
import { LauncherFleetImpl } from '../../src/launcher/launcher-fleet-impl';
import { ZkClient } from '../../src/zk/zk-client';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { CaptureLogger } from '../support/capture-logger';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

jest.setTimeout(60000);

const h = new EngineHarness();
const PROVIDER = 'shared-static';
const PY_VERSION = '10.0.1.dev3 a0d1eb5';
/** The emulated launcher registers all its pools at once: no need to wait 10 s for more. */
const FAST_SETTLE = { foreignSettleMs: 300 };

/** A static provider of `hosts` single-slot hosts (no network checks). */
function staticConfig(hosts: number): string {
  const nodes = Array.from({ length: hosts }, (_, i) => `\n          - name: fake-host-${i}\n            labels: [small]\n            host-key-checking: false`).join('');
  return `labels:\n  - name: small\nproviders:\n  - name: ${PROVIDER}\n    driver: static\n    pools:\n      - name: main\n        nodes:${nodes}\n`;
}

/** A foreign (Python-like) launcher: its own session holding its component records. */
class ForeignLauncher {
  client!: ZkClient;
  zk!: NodepoolZk;

  async start(providers: string[], hostname = 'python-host'): Promise<void> {
    this.client = new ZkClient({ hosts: h.server.connectString });
    await this.client.connect();
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    const base = { hostname, state: 'running', version: PY_VERSION, model_api: 0 };
    await this.client.create(`/nodepool/components/launcher/${hostname}`, Buffer.from(JSON.stringify({ ...base, kind: 'launcher' })), { ephemeral: true, sequential: true, makeParents: true });
    for (const provider of providers) {
      const pool = { ...base, kind: 'pool', id: `${hostname}-PoolWorker.${provider}-main-0123`, name: 'main', provider_name: provider, supported_labels: ['small'], priority: 100, paused: false };
      await this.client.create(`/nodepool/components/pool/${hostname}`, Buffer.from(JSON.stringify(pool)), { ephemeral: true, sequential: true, makeParents: true });
    }
  }

  /** Ends the session: its records and locks vanish at once, as when a launcher dies. */
  async die(): Promise<void> {
    await this.client.close();
  }
}

/** Records of our provider per host name (all states). */
async function recordsPerHost(): Promise<Map<string, Node[]>> {
  const out = new Map<string, Node[]>();
  for (const n of await h.nodes((x) => x.provider === PROVIDER)) out.set(n.hostname as string, [...(out.get(n.hostname as string) ?? []), n]);
  return out;
}

beforeAll(async () => {
  await h.open();
});
afterEach(async () => {
  await h.reset();
  await h.client.deleteRecursive('/nodepool/components').catch(() => undefined);
});
afterAll(async () => {
  await h.close();
});

test('static: while a foreign launcher serves the provider we neither delete nor register records; once it is gone we do both again', async () => {
  await h.startLauncher('ours', staticConfig(2), FAST_SETTLE);
  await waitUntil('two ready records', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 2);

  const foreign = new ForeignLauncher();
  await foreign.start([PROVIDER]);
  // A job returns its node `used`: our deleted-node worker would delete it within 200 ms.
  const job = await h.zuul.runJob({ labels: ['small'], timeoutMs: 15000 });
  const used = job.nodeIds[0];
  await sleep(1500);
  const held = await h.zk.getNode(used);
  expect(held?.state).toBe('used');

  // The foreign launcher deletes it (its deleter then re-registers the slot, not modelled here):
  // our launcher must not register that slot meanwhile, not even in its periodic sync.
  await h.zk.deleteNode(held!);
  await h.launchers[0].engine!.cleanup!.pass();
  await sleep(1000);
  const during = await recordsPerHost();
  expect(during.get(held!.hostname as string)).toBeUndefined();

  // It dies: we take registration back and the slot is registered again, exactly once.
  await foreign.die();
  await waitUntil('the slot registered again', async () => (await recordsPerHost()).get(held!.hostname as string)?.length === 1);
  await sleep(1000);
  const after = await recordsPerHost();
  expect([...after.values()].map((nodes) => nodes.length)).toEqual([1, 1]);
});

test('static: used records left while a foreign launcher was here are deleted and re-registered once it is gone', async () => {
  await h.startLauncher('ours', staticConfig(1), FAST_SETTLE);
  await waitUntil('a ready record', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
  const foreign = new ForeignLauncher();
  await foreign.start([PROVIDER]);
  const job = await h.zuul.runJob({ labels: ['small'], timeoutMs: 15000 });
  await sleep(1000);
  expect((await h.zk.getNode(job.nodeIds[0]))?.state).toBe('used');
  await foreign.die();
  await waitUntil('the used record deleted', async () => (await h.zk.getNode(job.nodeIds[0])) === undefined);
  await waitUntil('a fresh ready record', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
});

test('a foreign launcher serving other providers only, or a nodepool-ts one, changes nothing', async () => {
  await h.startLauncher('ours', staticConfig(1), FAST_SETTLE);
  await waitUntil('a ready record', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
  const foreign = new ForeignLauncher();
  await foreign.start(['some-other-provider']);
  const job = await h.zuul.runJob({ labels: ['small'], timeoutMs: 15000 });
  await waitUntil('the used record deleted by us', async () => (await h.zk.getNode(job.nodeIds[0])) === undefined);
  await waitUntil('re-registered', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
  await foreign.die();
});

test('a foreign launcher that registered no pool yet counts as serving every provider', async () => {
  await h.startLauncher('ours', staticConfig(1), FAST_SETTLE);
  await waitUntil('a ready record', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
  const foreign = new ForeignLauncher();
  await foreign.start([]);
  const job = await h.zuul.runJob({ labels: ['small'], timeoutMs: 15000 });
  await sleep(1500);
  expect((await h.zk.getNode(job.nodeIds[0]))?.state).toBe('used');
  await foreign.die();
  await waitUntil('deleted once it is gone', async () => (await h.zk.getNode(job.nodeIds[0])) === undefined);
});

test('hand-over: requests a dead launcher had locked are reset and served at once, not at the next cleanup pass', async () => {
  // The cleanup worker's first pass runs at start; its next one would be in 10 minutes.
  await h.startLauncher('ours', staticConfig(2), { ...FAST_SETTLE, cleanupIntervalMs: 600_000 });
  await waitUntil('two ready records', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 2);
  const foreign = new ForeignLauncher();
  await foreign.start([PROVIDER]);
  // The foreign launcher is serving a request: it holds a ready node locked and allocated, and
  // the request (Zuul's, persistent) locked and `pending`. Locked first, so we cannot take them.
  const [ready] = await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready');
  const node = new Node(ready.id);
  expect(await foreign.zk.lockNode(node, { blocking: false })).toBeDefined();
  const pending = new NodeRequest();
  pending.state = 'pending';
  pending.node_types = ['small'];
  pending.requestor = 'zuul-test';
  await h.zk.submitNodeRequest(pending, '200', { ephemeral: false });
  const request = new NodeRequest(pending.id);
  expect(await foreign.zk.lockNodeRequest(request, { blocking: false })).toBeDefined();
  node.allocated_to = request.id;
  await foreign.zk.storeNode(node);
  await sleep(1000);
  expect((await h.zk.getNodeRequest(request.id as string))?.state).toBe('pending');
  const submitted = { id: request.id as string };
  await foreign.die();
  const done = await h.zuul.waitFor(submitted.id, ['fulfilled', 'failed'], 20000);
  expect(done.state).toBe('fulfilled');
  expect(done.nodes).toHaveLength(1);
});

test('metastatic: while a foreign launcher serves the provider our pool neither accepts nor declines its requests', async () => {
  const config =
    `labels:\n  - name: small\n  - name: meta-small\nproviders:\n  - name: backing\n    driver: static\n    pools:\n      - name: main\n        nodes:\n` +
    `          - name: fake-backing-0\n            labels: [small]\n            host-key-checking: false\n` +
    `  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
    `          - name: meta-small\n            backing-label: small\n            max-parallel-jobs: 2\n            grace-time: 0\n`;
  await h.startLauncher('ours', config, FAST_SETTLE);
  const foreign = new ForeignLauncher();
  await foreign.start(['meta']);
  const submitted = await h.zuul.submit({ labels: ['meta-small'] });
  await sleep(2000);
  const waiting = await h.zk.getNodeRequest(submitted.id);
  expect(waiting?.state).toBe('requested');
  expect(waiting?.declined_by).toEqual([]);
  expect(await h.nodes((n) => n.provider === 'meta')).toEqual([]);
  await foreign.die();
  const done = await h.zuul.waitFor(submitted.id, ['fulfilled', 'failed'], 30000);
  expect(done.state).toBe('fulfilled');
});

test('a pending request nobody holds (a Python static pool that found no free node leaves it so) is reset and served, not left to the 60 s cleanup', async () => {
  await h.startLauncher('ours', staticConfig(1), { ...FAST_SETTLE, cleanupIntervalMs: 600_000, handoverCheckMs: 200 });
  await waitUntil('a ready record', async () => (await h.nodes((n) => n.provider === PROVIDER && n.state === 'ready')).length === 1);
  const orphan = new NodeRequest();
  orphan.state = 'pending';
  orphan.node_types = ['small'];
  orphan.requestor = 'zuul-test';
  await h.zk.submitNodeRequest(orphan, '200', { ephemeral: false });
  const done = await h.zuul.waitFor(orphan.id as string, ['fulfilled', 'failed'], 20000);
  expect(done.state).toBe('fulfilled');
});

test('a foreign launcher still adding pool records counts as serving every provider until they settle; the end is announced', async () => {
  let clock = 1_000_000;
  const fleet = new LauncherFleetImpl({ client: h.client, logger: new CaptureLogger(), settleMs: 10_000, now: () => clock });
  await fleet.start();
  try {
    const changes: boolean[] = [];
    fleet.onChange((removed) => changes.push(removed));
    const foreign = new ForeignLauncher();
    // Python registers its pools provider after provider: `backing` first, `meta` later.
    await foreign.start(['backing']);
    // Seen once the window would be over (the clock is ours: set it ahead, look, set it back).
    await waitUntil('the pool record seen', async () => {
      const now = clock;
      clock += 10_001;
      const seen = /serves backing/.test(fleet.foreignPresence('backing') ?? '');
      clock = now;
      return seen;
    });
    expect(fleet.foreignPresence('meta')).toMatch(/starting/);
    clock += 10_001;
    expect(fleet.foreignPresence('meta')).toBeUndefined();
    expect(fleet.foreignPresence('backing')).toMatch(/serves backing/);
    // No record changed when the window ended: the fleet's own check announces it.
    const before = changes.length;
    await waitUntil('the end of the window announced', async () => changes.length > before, 3000);
    await foreign.die();
  } finally {
    fleet.stop();
  }
});
