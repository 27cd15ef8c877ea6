/**
 * The engine's first slice against a real ZooKeeper: a launcher with one static provider serves
 * requests submitted the way Zuul does (ZuulRequestor), declines what nobody can serve,
 * registers its pool component, honours request priority and never hands out a node someone
 * else holds locked; used nodes are deleted and their slot re-registered.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { NODE_BODY_KEYS } from '../../src/zk/models/node';
import { nodeLockPath, nodePath } from '../../src/zk/nodepool-paths';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { sleep, waitUntil } from '../support/engine-harness';
import { testSettings } from '../support/test-settings';
import { ZuulRequestor } from '../support/zuul-requestor';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

const PROVIDER = 'static-engine';
let server: ZooKeeperServer;
let client: ZkClient;
let zk: NodepoolZk;
let zuul: ZuulRequestor;
let tmp: string;
let launchers: Launcher[] = [];

/** Starts a launcher whose one static pool has `hosts` (loopback names, no host-key checks). */
async function startLauncher(hosts: string[] = ['127.0.0.1'], poolPollIntervalMs = 200, provider = PROVIDER): Promise<Launcher> {
  const nodes = hosts.map((h) => `\n          - name: ${h}\n            labels: [small]\n            host-key-checking: false`).join('');
  const file = path.join(tmp, `${provider}.yaml`);
  fs.writeFileSync(
    file,
    `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: small\nproviders:\n  - name: ${provider}\n    driver: static\n    pools:\n      - name: main\n        nodes:${nodes}\n`,
  );
  const launcher = await createLauncher(testSettings({ config: file, hostname: 'engine-test' }), {
    engine: { poolPollIntervalMs, deletedNodeIntervalMs: 200 },
  });
  launchers.push(launcher);
  expect(launcher.configErrors).toEqual([]);
  await launcher.kernel.start();
  await waitUntil('a ready static node', async () => (await readyNodes(provider)).length >= hosts.length);
  return launcher;
}

async function readyNodes(provider = PROVIDER): Promise<Array<{ id: string; allocated_to: string | null; slot: number | null }>> {
  const nodes = await zk.getNodes();
  return nodes
    .filter((n) => n.provider === provider && n.state === 'ready')
    .map((n) => ({ id: n.id as string, allocated_to: n.allocated_to, slot: n.slot }));
}

async function poolComponents(): Promise<Array<Record<string, unknown>>> {
  const dir = '/nodepool/components/pool';
  if (!(await client.exists(dir))) return [];
  const names = await client.getChildren(dir);
  return Promise.all(names.map(async (n) => JSON.parse((await client.get(`${dir}/${n}`)).data!.toString()) as Record<string, unknown>));
}

beforeAll(async () => {
  server = await startZooKeeper();
  client = new ZkClient({ hosts: server.connectString });
  await client.connect();
  zk = new NodepoolZk(client, new CaptureLogger());
  zuul = new ZuulRequestor(zk, { pollMs: 200 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'static-engine-'));
});

beforeEach(async () => {
  await client.deleteRecursive('/nodepool/nodes');
  await client.deleteRecursive('/nodepool/requests');
});

afterEach(async () => {
  await Promise.all(launchers.map((l) => l.kernel.stop()));
  launchers = [];
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('static engine', () => {
  it('fulfils a request, and deletes and re-registers the node after use', async () => {
    // A poll that never fires within the test: the request must be seen through the watch.
    await startLauncher(['127.0.0.1'], 60000);
    const [before] = await readyNodes();
    const sub = await zuul.submit({ labels: ['small'] });
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
    expect(req.state).toBe('fulfilled');
    expect(Date.now() - sub.submittedAt).toBeLessThan(2000);
    expect(req.nodes).toEqual([before.id]);

    const body = JSON.parse((await client.get(nodePath(before.id))).data!.toString()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...NODE_BODY_KEYS].sort());
    expect(body).toMatchObject({ state: 'ready', allocated_to: sub.id, requestor: zuul.requestor, tenant_name: 'tenant-one' });
    expect(await zk.isNodeLocked(before.id)).toBe(false); // unlocked before the request was stored

    const nodeSet = await zuul.accept(req);
    await zuul.release(nodeSet);
    const fresh = await waitUntil(
      'the slot re-registered',
      async () => (await zk.getNode(before.id)) === undefined && (await readyNodes()).find((n) => n.id !== before.id),
      5000,
    );
    expect(fresh).toMatchObject({ slot: before.slot, allocated_to: null });
  });

  it('fails a request for an unknown label, declined by our pool, whose component has the spec keys', async () => {
    const l = await startLauncher();
    const sub = await zuul.submit({ labels: ['no-such-label'] });
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
    expect(req.state).toBe('failed');
    expect(req.declined_by).toEqual([l.engine.pools[0].id]);

    const comps = await poolComponents();
    expect(comps).toHaveLength(1);
    expect(Object.keys(comps[0])).toEqual(
      ['hostname', 'id', 'kind', 'model_api', 'name', 'paused', 'priority', 'provider_name', 'state', 'supported_labels', 'version'],
    );
    expect(comps[0]).toMatchObject({
      hostname: 'engine-test', kind: 'pool', state: 'running', model_api: 0, id: req.declined_by[0], name: 'main',
      provider_name: PROVIDER, supported_labels: ['small'], priority: 100, paused: false,
    });
    expect(req.declined_by[0]).toMatch(new RegExp(`^engine-test-PoolWorker\\.${PROVIDER}-main-[0-9a-f]{32}$`));
  });

  it('fails an unserviceable request only once every registered pool declined it', async () => {
    const a = await startLauncher(['127.0.0.1'], 200, 'rack-a');
    const b = await startLauncher(['127.0.0.2'], 200, 'rack-b');
    const sub = await zuul.submit({ labels: ['no-such-label'] });
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
    expect(req.state).toBe('failed');
    expect([...req.declined_by].sort()).toEqual([a.engine.pools[0].id, b.engine.pools[0].id].sort());
  });

  it('serves the lower priority prefix first when the only node frees up', async () => {
    await startLauncher();
    const first = await zuul.submit({ labels: ['small'] });
    const busy = await zuul.accept(await zuul.waitFor(first.id, ['fulfilled', 'failed'], 10000));
    const low = await zuul.submit({ labels: ['small'], priority: 200 });
    const high = await zuul.submit({ labels: ['small'], priority: 100 });
    await sleep(500); // a few passes with nothing free: both stay untouched
    expect((await zk.getNodeRequest(low.id))?.state).toBe('requested');
    expect((await zk.getNodeRequest(high.id))?.state).toBe('requested');

    await zuul.release(busy);
    const done = await zuul.waitFor(high.id, ['fulfilled', 'failed'], 10000);
    expect(done.state).toBe('fulfilled');
    expect((await zk.getNodeRequest(low.id))?.state).toBe('requested');

    await zuul.release(await zuul.accept(done));
    expect((await zuul.waitFor(low.id, ['fulfilled', 'failed'], 10000)).state).toBe('fulfilled');
  });

  it('de-allocates a fulfilled node whose request Zuul cancelled', async () => {
    await startLauncher();
    const sub = await zuul.submit({ labels: ['small'] });
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
    expect(req.state).toBe('fulfilled');
    expect(await zuul.cancel(sub.id)).toBe(true);
    await waitUntil('the node de-allocated', async () => (await zk.getNode(req.nodes[0]))?.allocated_to === null, 5000);
    expect((await zk.getNode(req.nodes[0]))?.state).toBe('ready');
  });

  it('never hands out a node someone else holds locked', async () => {
    await startLauncher();
    const [node] = await readyNodes();
    const foreign = zk.createLock(nodeLockPath(node.id));
    expect(await foreign.acquire({ blocking: false })).toBe(true);
    const sub = await zuul.submit({ labels: ['small'] });
    await sleep(800);
    expect((await zk.getNodeRequest(sub.id))?.state).toBe('requested');
    expect((await zk.getNode(node.id))?.allocated_to).toBeNull();

    await foreign.release();
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
    expect(req.state).toBe('fulfilled');
    expect(req.nodes).toEqual([node.id]);
  });
});
