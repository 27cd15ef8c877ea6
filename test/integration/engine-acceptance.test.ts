/**
 * Engine acceptance against a real ZooKeeper, the way Zuul and other launchers share it: locks
 * held by others (ours and a real kazoo) are honoured, two launchers split the work without ever
 * handing out one node twice, a launcher that dies mid-stream leaves nothing stuck, and a config
 * change is applied while running (static hosts added, removed idle, removed in use).
 */
import fs from 'node:fs';
import type { Launcher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';
import { nodeLockPath, requestLockPath } from '../../src/zk/nodepool-paths';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';
import { KazooPeer } from '../support/kazoo-peer';

const h = new EngineHarness();

/** A static provider `name` with one pool of loopback `hosts` carrying `small`. */
function staticConfig(name: string, hosts: string[], extraLabels = ''): string {
  const nodes = hosts.map((host) => `          - name: ${host}\n            labels: [small]\n            host-key-checking: false\n`).join('');
  return `labels:\n  - name: small\n${extraLabels}providers:\n  - name: ${name}\n    driver: static\n    pools:\n      - name: main\n        nodes:\n${nodes}`;
}

async function readyOf(provider: string): Promise<string[]> {
  return (await h.nodes((n) => n.provider === provider && n.state === 'ready' && !n.allocated_to)).map((n) => n.id as string);
}

/** Kills a launcher's ZooKeeper session without a graceful stop (its ephemerals vanish). */
async function killSession(launcher: Launcher): Promise<void> {
  const zk = launcher.kernel.container.get<ZooKeeper>(ZooKeeper);
  await (zk.client as unknown as ZkClient).close();
}

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

describe('locks held by others', () => {
  it('a node locked by a real kazoo client is never handed out', async () => {
    await h.startLauncher('a', staticConfig('static-a', ['127.0.0.1']));
    const [nodeId] = await waitUntil('a ready node', async () => { const r = await readyOf('static-a'); return r.length ? r : undefined; });
    const peer = await KazooPeer.start(h.server.connectString);
    try {
      expect(await peer.acquire('n', nodeLockPath(nodeId), { identifier: 'zuul-executor' })).toBe(true);
      const sub = await h.zuul.submit({ labels: ['small'] });
      await sleep(1000);
      expect((await h.zk.getNodeRequest(sub.id))?.state).toBe('requested');
      expect((await h.zk.getNode(nodeId))?.allocated_to).toBeNull();
      await peer.release('n');
      const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 10000);
      expect(req.nodes).toEqual([nodeId]);
    } finally {
      await peer.stop();
    }
  });

  it('a request locked by someone else is never touched: not served, not declined, not marked pending', async () => {
    // Submitted and locked before any launcher runs, so no pass can reach them unlocked.
    const servable = await h.zuul.submit({ labels: ['small'] });
    const unknown = await h.zuul.submit({ labels: ['nobody-has-this'] });
    const locks = [h.zk.createLock(requestLockPath(servable.id)), h.zk.createLock(requestLockPath(unknown.id))];
    for (const lock of locks) expect(await lock.acquire({ blocking: false })).toBe(true);
    const before = await Promise.all([servable.id, unknown.id].map(async (id) => (await h.client.get(`/nodepool/requests/${id}`)).stat.version));
    await h.startLauncher('a', staticConfig('static-a', ['127.0.0.1']));
    await waitUntil('a ready node', async () => (await readyOf('static-a')).length === 1);
    await sleep(1500);
    const after = await Promise.all([servable.id, unknown.id].map(async (id) => (await h.client.get(`/nodepool/requests/${id}`)).stat.version));
    expect(after).toEqual(before); // not a single write
    expect((await readyOf('static-a')).length).toBe(1);

    for (const lock of locks) await lock.release();
    expect((await h.zuul.waitFor(servable.id, ['fulfilled', 'failed'], 10000)).state).toBe('fulfilled');
    expect((await h.zuul.waitFor(unknown.id, ['fulfilled', 'failed'], 10000)).state).toBe('failed');
  });
});

describe('two launchers on one ZooKeeper', () => {
  it('split the work and never allocate one node twice', async () => {
    await h.startLauncher('a', staticConfig('static-a', ['127.0.0.1', '127.0.0.2']));
    await h.startLauncher('b', staticConfig('static-b', ['127.0.0.3', '127.0.0.4']));
    await waitUntil('four ready nodes', async () => (await h.nodes((n) => n.state === 'ready')).length === 4);
    const inUse = new Set<string>();
    const providers = new Set<string>();
    let doubleBooked = 0;
    const job = async (): Promise<void> => {
      const sub = await h.zuul.submit({ labels: ['small'] });
      const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 30000);
      expect(req.state).toBe('fulfilled');
      const set = await h.zuul.accept(req); // throws if allocated_to is not this request
      for (const node of set.nodes) {
        if (inUse.has(node.id as string)) doubleBooked++;
        inUse.add(node.id as string);
        providers.add(node.provider as string);
      }
      await sleep(50);
      for (const node of set.nodes) inUse.delete(node.id as string);
      await h.zuul.release(set);
    };
    await Promise.all(Array.from({ length: 16 }, () => job()));
    expect(doubleBooked).toBe(0);
    expect([...providers].sort()).toEqual(['static-a', 'static-b']);
  });

  it('when one dies mid-stream the other finishes every request, resetting the dead one\'s pending requests', async () => {
    // B hands out one static host; A launches slowly, so it holds the requests it takes pending.
    await h.startLauncher('b', staticConfig('static-b', ['127.0.0.3']));
    await waitUntil('B ready', async () => (await readyOf('static-b')).length === 1);
    const a = await h.startLauncher('a', `labels:\n  - name: small\nproviders:\n  - name: fake-a\n    driver: fake\n    boot-ms: 60000\n    pools:\n      - name: main\n        labels:\n          - name: small\n`);
    const subs = await Promise.all(Array.from({ length: 6 }, () => h.zuul.submit({ labels: ['small'] })));
    await waitUntil('A holding pending requests', async () => (await h.zk.getNodeRequests()).filter((r) => r.state === 'pending').length >= 3);
    await killSession(a);
    const served = await Promise.all(subs.map(async (sub) => {
      const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 30000);
      expect(req.state).toBe('fulfilled');
      const set = await h.zuul.accept(req);
      await h.zuul.release(set);
      return set.nodes.map((n) => n.provider);
    }));
    expect(served.flat().every((p) => p === 'static-b')).toBe(true);
    // A's half-launched nodes were released from the requests (left to a launcher of fake-a).
    expect((await h.nodes((n) => n.provider === 'fake-a')).every((n) => n.allocated_to === null)).toBe(true);
  });
});

describe('config change while running', () => {
  it('adds a new host, removes an idle one, keeps a removed in-use one until it is used', async () => {
    const launcher = await h.startLauncher('a', staticConfig('static-a', ['127.0.0.1', '127.0.0.2', '127.0.0.4']));
    await waitUntil('three ready nodes', async () => (await readyOf('static-a')).length === 3);
    const byHost = async (host: string): Promise<string[]> => (await h.nodes((n) => n.hostname === host)).map((n) => n.state);
    // Take the .2 host in use.
    let set;
    for (;;) {
      const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled'], 10000);
      set = await h.zuul.accept(req);
      if (set.nodes[0].hostname === '127.0.0.2') break;
      await h.zuul.release(set);
      await waitUntil('re-registered', async () => (await readyOf('static-a')).length === 3);
    }
    const configFile = h.writeConfig('a', staticConfig('static-a', ['127.0.0.1', '127.0.0.3']));
    // A new mtime even on coarse clocks.
    const later = new Date(Date.now() + 2000);
    fs.utimesSync(configFile, later, later);
    await waitUntil('the new host ready', async () => (await byHost('127.0.0.3')).includes('ready'));
    await waitUntil('the removed idle host gone', async () => (await byHost('127.0.0.4')).length === 0);
    expect(await byHost('127.0.0.2')).toEqual(['in-use']);
    expect(launcher.engine.pools).toHaveLength(1);
    await h.zuul.release(set);
    await waitUntil('the removed in-use host gone after use', async () => (await byHost('127.0.0.2')).length === 0);
    await sleep(800);
    expect(await byHost('127.0.0.2')).toEqual([]); // not re-registered
    expect((await byHost('127.0.0.1')).length).toBe(1);
  });
});
