/**
 * KazooLock against the REAL kazoo Lock (Debian python3-kazoo, driven through
 * test/support/kazoo-peer.py). If kazoo cannot be imported the suite fails (CI installs it).
 */
import { KazooLock } from '../../src/zk/kazoo-lock';
import { forceUnlock, sortContenders } from '../../src/zk/lock-contenders';
import { ZkClient } from '../../src/zk/zk-client';
import { KazooPeer } from '../support/kazoo-peer';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

// jest's testTimeout in a `projects` entry is ignored (it is a global option), so set it here.
jest.setTimeout(30000);

let server: ZooKeeperServer;
let peer: KazooPeer;
let zk: ZkClient;
const extraClients: ZkClient[] = [];
let counter = 0;

/** A fresh lock dir per test. */
function lockDir(): string {
  return `/nodepool/nodes/${String(++counter).padStart(10, '0')}/lock`;
}

beforeAll(async () => {
  server = await startZooKeeper();
  zk = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
  await zk.connect(10000);
  // Fails (not skips) with "cannot import kazoo ... install python3-kazoo" when it is missing.
  peer = await KazooPeer.start(server.connectString);
});

afterAll(async () => {
  await peer?.stop();
  await Promise.all([zk, ...extraClients].map((c) => c?.close()));
  await server?.stop();
});

describe('KazooLock interop with kazoo', () => {
  test('the peer runs a real kazoo', () => {
    expect(peer.version).toMatch(/^2\.\d+\.\d+/);
  });

  test('kazoo holds: our non-blocking acquire fails and leaves no contender behind', async () => {
    const dir = lockDir();
    expect(await peer.acquire('k1', dir, { blocking: false })).toBe(true);
    const ours = new KazooLock(zk, dir);
    expect(await ours.acquire({ blocking: false })).toBe(false);
    expect(ours.isAcquired).toBe(false);
    expect(await zk.getChildren(dir)).toHaveLength(1);
    await peer.release('k1');
    expect(await zk.getChildren(dir)).toHaveLength(0);
  });

  test('kazoo holds: our blocking acquire succeeds right after kazoo releases', async () => {
    const dir = lockDir();
    expect(await peer.acquire('k2', dir, { blocking: false })).toBe(true);
    const ours = new KazooLock(zk, dir);
    let done = false;
    const pending = ours.acquire({ blocking: true, timeout: 10 }).then((got) => {
      done = true;
      return got;
    });
    await sleep(300);
    expect(done).toBe(false);
    expect(await peer.children(dir)).toHaveLength(2);
    const releasedAt = Date.now();
    await peer.release('k2');
    expect(await pending).toBe(true);
    expect(Date.now() - releasedAt).toBeLessThan(2000);
    expect(ours.isAcquired).toBe(true);
    await ours.release();
  });

  test('our blocking acquire with a timeout gives up and removes its contender', async () => {
    const dir = lockDir();
    expect(await peer.acquire('k3', dir, { blocking: false })).toBe(true);
    const ours = new KazooLock(zk, dir);
    const started = Date.now();
    expect(await ours.acquire({ blocking: true, timeout: 0.5 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await zk.getChildren(dir)).toHaveLength(1);
    await peer.release('k3');
  });

  test('we hold: kazoo non-blocking fails, kazoo blocking gets it after our release', async () => {
    const dir = lockDir();
    const ours = new KazooLock(zk, dir, 'ts-holder');
    expect(await ours.acquire({ blocking: false })).toBe(true);
    // Our contender is named exactly like kazoo's: <uuid4 hex>__lock__<seq10>.
    expect(await zk.getChildren(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{32}__lock__\d{10}$/)]);
    expect(await peer.acquire('k4', dir, { blocking: false })).toBe(false);
    const kazooWaits = peer.acquire('k5', dir, { blocking: true, timeout: 10 });
    await sleep(300);
    await ours.release();
    expect(await kazooWaits).toBe(true);
    expect(await new KazooLock(zk, dir).acquire({ blocking: false })).toBe(false);
    await peer.release('k5');
  });

  test('a lock dir created together with our contender: held without listing, kazoo excluded', async () => {
    const dir = lockDir();
    await zk.ensurePath(dir.slice(0, dir.lastIndexOf('/')));
    const before = { ...zk.operationCounts };
    // parentMustExist + preferClaim, as node locks of never-written nodes use it.
    const ours = new KazooLock(zk, dir, '', true, true);
    expect(await ours.acquire({ blocking: false })).toBe(true);
    // One multi (dir + contender), no getChildren: the fresh dir holds only our contender.
    expect((zk.operationCounts.multi ?? 0) - (before.multi ?? 0)).toBe(1);
    expect((zk.operationCounts.getChildren ?? 0) - (before.getChildren ?? 0)).toBe(0);
    expect(await zk.getChildren(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{32}__lock__0000000000$/)]);
    expect(await peer.acquire('k6', dir, { blocking: false })).toBe(false);
    // The dir exists now: a second claimer falls back to an ordinary create and sees us.
    const second = new KazooLock(zk, dir, '', true, true);
    expect(await second.acquire({ blocking: false })).toBe(false);
    await ours.release();
    expect(await peer.acquire('k6', dir, { blocking: false })).toBe(true);
    await peer.release('k6');
    // A node lock never re-creates a missing node.
    await expect(new KazooLock(zk, '/nodepool/nodes/9999999990/lock', '', true, true).acquire({ blocking: false })).rejects.toThrow(/NO_NODE/);
    expect(await zk.exists('/nodepool/nodes/9999999990')).toBeNull();
  });

  test('a transaction re-creating an empty lock dir (our lock-free check) fails while kazoo holds or waits', async () => {
    const dir = lockDir();
    await zk.ensurePath(dir);
    const check = (): Promise<unknown> => zk.multi([{ op: 'delete', path: dir }, { op: 'create', path: dir }]);
    expect(await peer.acquire('k7', dir, { blocking: false })).toBe(true);
    await expect(check()).rejects.toThrow(/NOT_EMPTY/);
    await peer.release('k7');
    await check();
    // The re-created dir is an ordinary lock dir again: kazoo locks it, and excludes us.
    expect(await peer.acquire('k8', dir, { blocking: false })).toBe(true);
    expect(await new KazooLock(zk, dir).acquire({ blocking: false })).toBe(false);
    await peer.release('k8');
  });

  test('mutual exclusion: concurrent contenders on both sides never overlap', async () => {
    const dir = lockDir();
    const events: string[] = [];
    let holders = 0;
    let maxHolders = 0;
    const critical = async (who: string): Promise<void> => {
      holders++;
      maxHolders = Math.max(maxHolders, holders);
      events.push(`in ${who}`);
      await sleep(40);
      events.push(`out ${who}`);
      holders--;
    };
    const tsWorker = async (i: number): Promise<void> => {
      const lock = new KazooLock(zk, dir, `ts-${i}`);
      for (let round = 0; round < 3; round++) {
        expect(await lock.acquire({ timeout: 20 })).toBe(true);
        await critical(`ts-${i}`);
        await lock.release();
      }
    };
    // kazoo's side: acquire, then we observe it holding via contenders(), then release.
    const kazooWorker = async (i: number): Promise<void> => {
      for (let round = 0; round < 3; round++) {
        expect(await peer.acquire(`mx-${i}-${round}`, dir, { identifier: `kz-${i}`, timeout: 20 })).toBe(true);
        await critical(`kz-${i}`);
        await peer.release(`mx-${i}-${round}`);
      }
    };
    await Promise.all([tsWorker(1), tsWorker(2), kazooWorker(1), kazooWorker(2)]);
    expect(maxHolders).toBe(1);
    expect(events).toHaveLength(24);
  });

  test('contenders() lists the same identifiers in the same order on both sides', async () => {
    const dir = lockDir();
    const first = new KazooLock(zk, dir, 'ts-first');
    expect(await first.acquire({ blocking: false })).toBe(true);
    const kz = peer.acquire('c1', dir, { identifier: 'kazoo-second', timeout: 20 });
    await waitFor(async () => (await zk.getChildren(dir)).length === 2);
    const anon = new KazooLock(zk, dir); // no identifier: kazoo reports ''
    const third = anon.acquire({ timeout: 20 });
    await waitFor(async () => (await zk.getChildren(dir)).length === 3);

    const expected = ['ts-first', 'kazoo-second', ''];
    expect(await new KazooLock(zk, dir).contenders()).toEqual(expected);
    expect(await peer.contenders(dir)).toEqual(expected);

    await first.release();
    expect(await kz).toBe(true);
    await peer.release('c1');
    expect(await third).toBe(true);
    await anon.release();
  });

  test('a persistent lock with an identifier is read back by kazoo and survives our session', async () => {
    const dir = lockDir();
    const client = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
    extraClients.push(client);
    await client.connect(10000);
    const meta = new KazooLock(client, dir, 'NodePool:metastatic:meta-provider');
    expect(await meta.acquire({ blocking: false, ephemeral: false })).toBe(true);
    const [child] = await zk.getChildren(dir);
    expect((await zk.get(`${dir}/${child}`)).stat.ephemeralOwner).toBe('0000000000000000');
    expect(await peer.contenders(dir)).toEqual(['NodePool:metastatic:meta-provider']);

    await client.close();
    expect(await peer.contenders(dir)).toEqual(['NodePool:metastatic:meta-provider']);
    expect(await peer.acquire('p1', dir, { blocking: false })).toBe(false);
    // Metastatic releases such a lock by force-unlocking it.
    expect(await forceUnlock(zk, dir)).toBe(child);
    expect(await peer.acquire('p1', dir, { blocking: false })).toBe(true);
    await peer.release('p1');
  });

  test('forceUnlock deletes only the lowest contender', async () => {
    const dir = lockDir();
    expect(await peer.acquire('f1', dir, { identifier: 'kazoo-holder', blocking: false })).toBe(true);
    const waiting = new KazooLock(zk, dir, 'ts-waiter');
    const acquired = waiting.acquire({ timeout: 20 });
    await waitFor(async () => (await zk.getChildren(dir)).length === 2);
    await zk.create(`${dir}/not-a-contender`, Buffer.alloc(0)); // ignored: no 10-digit suffix
    const before = await peer.children(dir);
    const deleted = await forceUnlock(zk, dir);
    const after = await peer.children(dir);

    const holderChild = sortContenders(before)[0]; // kazoo's, created first
    expect(deleted).toBe(holderChild);
    expect(after).toEqual(before.filter((c) => c !== holderChild));
    expect(await acquired).toBe(true);
    expect(await peer.contenders(dir)).toEqual(['ts-waiter']);
    await waiting.release();
    await peer.release('f1'); // its znode is gone; kazoo ignores NoNode
    expect(await forceUnlock(zk, `${dir}-missing`)).toBeNull();
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}
