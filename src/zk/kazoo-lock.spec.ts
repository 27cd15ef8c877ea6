import { MemoryZkClient } from '../../test/support/memory-zk-client';
import { KazooLock } from './kazoo-lock';
import { contenderSequence, forceUnlock, sortContenders } from './lock-contenders';

const DIR = '/nodepool/nodes/0000000001/lock';

async function setup(): Promise<MemoryZkClient> {
  const zk = new MemoryZkClient();
  await zk.ensurePath(DIR);
  return zk;
}

describe('KazooLock (kazoo Lock recipe)', () => {
  test('contender regex and lexicographic order follow kazoo', () => {
    expect(contenderSequence('0123456789abcdef0123456789abcdef__lock__0000000007')).toBe('0000000007');
    expect(contenderSequence('x__lock__-2147483648')).toBe('-2147483648');
    expect(contenderSequence('x__rlock__0000000001')).toBeUndefined();
    expect(contenderSequence('host0000000001')).toBeUndefined();
    expect(contenderSequence('x__lock__000000001')).toBeUndefined();
    // Strings, not numbers: '-' sorts before digits, like Python's sorted() on the groups.
    expect(sortContenders(['b__lock__0000000010', 'junk', 'a__lock__-2147483648', 'c__lock__0000000002'])).toEqual([
      'a__lock__-2147483648', 'c__lock__0000000002', 'b__lock__0000000010',
    ]);
  });

  test('contender znodes are <uuid4 hex>__lock__<seq>, ephemeral, carrying the identifier', async () => {
    const zk = await setup();
    const lock = new KazooLock(zk, DIR, 'ident');
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(lock.node).toMatch(/^[0-9a-f]{32}__lock__\d{10}$/);
    expect(lock.node?.startsWith(lock.prefix)).toBe(true);
    const node = zk.nodes.get(`${DIR}/${lock.node}`);
    expect(node?.ephemeral).toBe(true);
    expect(node?.data?.toString()).toBe('ident');
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
    expect(zk.nodes.has(DIR)).toBe(true); // the lock dir stays
  });

  test('a create whose reply was lost is found by prefix instead of creating a second contender', async () => {
    const zk = await setup();
    zk.lostCreateReplies = 1;
    const lock = new KazooLock(zk, DIR);
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(await zk.getChildren(DIR)).toEqual([lock.node]);
    expect(zk.calls.filter((c) => c.startsWith(`create ${DIR}/`))).toHaveLength(1);
  });

  test('the predecessor is the contender with the largest sequence below ours; non-contenders are ignored', async () => {
    const zk = await setup();
    await zk.create(`${DIR}/readlock__rlock__`, Buffer.alloc(0), { sequential: true }); // 0: not ours to respect
    await zk.create(`${DIR}/other__lock__`, Buffer.from('first'), { sequential: true }); // 1
    await zk.create(`${DIR}/another__lock__`, Buffer.from('second'), { sequential: true }); // 2
    const lock = new KazooLock(zk, DIR, 'third');
    const acquired = lock.acquire({ blocking: true, timeout: 5 });
    await new Promise((r) => setTimeout(r, 20));
    // We watch 0000000002 (the next-lower contender), not 0000000001.
    expect(zk.calls).toContain(`get ${DIR}/another__lock__0000000002`);
    expect(zk.calls).not.toContain(`get ${DIR}/other__lock__0000000001`);
    await zk.delete(`${DIR}/another__lock__0000000002`);
    await new Promise((r) => setTimeout(r, 20));
    expect(lock.isAcquired).toBe(false); // 0000000001 still holds it
    await zk.delete(`${DIR}/other__lock__0000000001`);
    expect(await acquired).toBe(true);
    expect(await lock.contenders()).toEqual(['third']);
  });

  test('a non-blocking miss and a blocking timeout delete our contender', async () => {
    const zk = await setup();
    const holder = new KazooLock(zk, DIR);
    await holder.acquire();
    const other = new KazooLock(zk, DIR);
    expect(await other.acquire({ blocking: false })).toBe(false);
    expect(await other.acquire({ timeout: 0.05 })).toBe(false);
    expect(await zk.getChildren(DIR)).toEqual([holder.node]);
    expect(other.node).toBeNull();
  });

  test('a session loss drops ephemeral locks (listeners told) but not persistent ones', async () => {
    const zk = await setup();
    await zk.ensurePath('/p');
    const eph = new KazooLock(zk, DIR);
    const persistent = new KazooLock(zk, '/p', 'meta');
    await eph.acquire();
    await persistent.acquire({ ephemeral: false });
    const told: string[] = [];
    eph.onLost(() => told.push('eph'));
    persistent.onLost(() => told.push('persistent'));
    zk.lose();
    expect(eph.isAcquired).toBe(false);
    expect(persistent.isAcquired).toBe(true);
    expect(told).toEqual(['eph']);
    await persistent.release();
    expect(zk.listenerCount('lost')).toBe(0); // nothing leaks on the client
  });

  test('a blocking acquire rejects when the session is lost or the client closes, instead of hanging', async () => {
    const zk = await setup();
    const holder = new KazooLock(zk, DIR);
    await holder.acquire({ ephemeral: false });
    const waiter = new KazooLock(zk, DIR);
    const lost = waiter.acquire().catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 20));
    zk.lose();
    expect(await lost).toBe('SessionExpiredError');
    const closing = waiter.acquire().catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 20));
    zk.close();
    expect(await closing).toBe('SessionExpiredError');
    expect(await zk.getChildren(DIR)).toEqual([holder.node]);
  });

  test('contenders() skips contenders with null data like kazoo', async () => {
    const zk = await setup();
    await zk.create(`${DIR}/a__lock__`, Buffer.from('one'), { sequential: true });
    const nullData = await zk.create(`${DIR}/b__lock__`, Buffer.alloc(0), { sequential: true });
    (zk.nodes.get(nullData) as { data: Buffer | null }).data = null;
    await zk.create(`${DIR}/c__lock__`, Buffer.alloc(0), { sequential: true });
    expect(await new KazooLock(zk, DIR).contenders()).toEqual(['one', '']);
  });

  test('forceUnlock deletes only the child with the smallest 10-digit suffix', async () => {
    const zk = await setup();
    await zk.create(`${DIR}/x__lock__`, Buffer.alloc(0), { sequential: true }); // 0
    await zk.create(`${DIR}/y__lock__`, Buffer.alloc(0), { sequential: true }); // 1
    await zk.create(`${DIR}/plain`, Buffer.alloc(0));
    expect(await forceUnlock(zk, DIR)).toBe('x__lock__0000000000');
    expect((await zk.getChildren(DIR)).sort()).toEqual(['plain', 'y__lock__0000000001']);
    expect(await forceUnlock(zk, '/missing')).toBeNull();
  });
});
