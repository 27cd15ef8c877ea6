/**
 * Persistent recursive watches (ZooKeeper 3.6+ `addWatch`) through node-zookeeper-client, and
 * the node cache that follows them: events at any depth, no read-back of our own writes,
 * catching up after a connection drop (the server forgets the watch), and the one-shot
 * fallback for servers that answer UNIMPLEMENTED.
 */
import { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { ZnodeCache } from '../../src/zk/znode-cache';
import { ZK_ERROR_CODES } from '../../src/zk/zk-errors';
import type { ZkWatchEvent } from '../../src/plugins/zookeeper';
import { CaptureLogger } from '../support/capture-logger';
import { TcpProxy } from '../support/tcp-proxy';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
let proxy: TcpProxy;
const clients: ZkClient[] = [];

async function connect(hosts: string, options: { persistentWatches?: boolean } = {}): Promise<ZkClient> {
  const client = new ZkClient({ hosts, sessionTimeout: 6000, spinDelay: 50, ...options });
  clients.push(client);
  await client.connect(10000);
  return client;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = await startZooKeeper();
  proxy = await TcpProxy.start(server.host, server.port);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await server?.stop();
});

test('addPersistentWatch: every create, change and delete below the path, under a chroot, without re-arming', async () => {
  const admin = await connect(server.connectString);
  await admin.ensurePath('/pw-chroot');
  const zk = await connect(`${server.connectString}/pw-chroot`);
  await zk.ensurePath('/tree');
  const events: ZkWatchEvent[] = [];
  await zk.addPersistentWatch('/tree', (e) => events.push(e));
  await admin.create('/pw-chroot/tree/a', Buffer.from('1'));
  await admin.set('/pw-chroot/tree/a', Buffer.from('2'));
  await admin.set('/pw-chroot/tree/a', Buffer.from('3'));
  await admin.create('/pw-chroot/tree/a/lock', Buffer.alloc(0));
  await admin.deleteRecursive('/pw-chroot/tree/a');
  await admin.create('/pw-chroot/elsewhere', Buffer.alloc(0));
  await until('all events', () => events.length >= 6);
  expect(events.map((e) => `${e.type} ${e.path}`)).toEqual([
    'created /tree/a', 'changed /tree/a', 'changed /tree/a', 'created /tree/a/lock', 'deleted /tree/a/lock', 'deleted /tree/a',
  ]);
  // A one-shot watch on a watched path still fires (the server sends one notification for both).
  let oneShot = 0;
  await admin.create('/pw-chroot/tree/b', Buffer.alloc(0));
  await zk.get('/tree/b', () => oneShot++);
  await admin.set('/pw-chroot/tree/b', Buffer.from('x'));
  await until('the one-shot watch and the persistent event', () => oneShot === 1 && events.some((e) => e.path === '/tree/b' && e.type === 'changed'));
});

test('the node cache follows a persistent watch: no listing per change, no read of our own writes', async () => {
  const zk = await connect(server.connectString);
  const other = new NodepoolZk(await connect(server.connectString), new CaptureLogger());
  const ours = new NodepoolZk(zk, new CaptureLogger());
  await ours.startCache();
  const cache = (ours as unknown as { caches: { node: ZnodeCache } }).caches.node;
  expect(cache.watchMode).toBe('persistent');

  const theirs = new Node();
  theirs.state = 'ready';
  await other.createNode(theirs);
  await until('their node in our cache', async () => (await ours.getNodes()).some((n) => n.id === theirs.id));
  const before = { ...zk.operationCounts };
  const delta = (op: string): number => (zk.operationCounts[op] ?? 0) - (before[op] ?? 0);
  const mine = new Node();
  mine.state = 'ready';
  await ours.createNode(mine);
  mine.comment = 'ours';
  await ours.storeNode(mine);
  // Their change is read (the event carries no data); it comes after ours on the same wire.
  theirs.comment = 'theirs';
  await other.storeNode(theirs);
  await until('their change', async () => (await ours.getNodes()).find((n) => n.id === theirs.id)?.comment === 'theirs');
  expect(delta('get')).toBe(1);
  await other.deleteNode(theirs);
  await until('their delete', async () => !(await ours.getNodes()).some((n) => n.id === theirs.id));
  expect(delta('getChildren')).toBe(0);
  expect((await ours.getNodes()).find((n) => n.id === mine.id)).toMatchObject({ comment: 'ours', version: 1 });
  ours.stopCache();
});

test('after a connection drop the watch is added again and what changed meanwhile is read', async () => {
  const zk = await connect(proxy.address);
  const other = new NodepoolZk(await connect(server.connectString), new CaptureLogger());
  const ours = new NodepoolZk(zk, new CaptureLogger());
  const keep = new Node();
  keep.state = 'ready';
  await other.createNode(keep);
  const gone = new Node();
  gone.state = 'ready';
  await other.createNode(gone);
  await ours.startCache();
  expect((await ours.getNodes()).map((n) => n.id)).toEqual(expect.arrayContaining([keep.id, gone.id]));

  const watchesBefore = zk.operationCounts.addWatch ?? 0;
  proxy.pause();
  await until('suspended', () => zk.state === 'suspended');
  keep.comment = 'changed while away';
  await other.storeNode(keep);
  await other.deleteNode(gone);
  const added = new Node();
  added.state = 'ready';
  await other.createNode(added);
  proxy.resume();
  await until('reconnected', () => zk.state === 'connected');
  await until('caught up', async () => {
    const nodes = await ours.getNodes();
    return nodes.find((n) => n.id === keep.id)?.comment === 'changed while away' && !nodes.some((n) => n.id === gone.id) && nodes.some((n) => n.id === added.id);
  });
  expect((zk.operationCounts.addWatch ?? 0) - watchesBefore).toBeGreaterThanOrEqual(3); // nodes, requests, pools
  // And it follows changes again.
  keep.comment = 'after';
  await other.storeNode(keep);
  await until('followed again', async () => (await ours.getNodes()).find((n) => n.id === keep.id)?.comment === 'after');
  ours.stopCache();
});

test('a server without addWatch (UNIMPLEMENTED): the cache falls back to one-shot watches', async () => {
  const zk = await connect(server.connectString, { persistentWatches: false });
  await expect(zk.addPersistentWatch('/', () => undefined)).rejects.toMatchObject({ code: ZK_ERROR_CODES.UNIMPLEMENTED });
  const other = new NodepoolZk(await connect(server.connectString), new CaptureLogger());
  const ours = new NodepoolZk(zk, new CaptureLogger());
  await ours.startCache();
  const cache = (ours as unknown as { caches: { node: ZnodeCache } }).caches.node;
  expect(cache.watchMode).toBe('one-shot');
  const node = new Node();
  node.state = 'ready';
  await other.createNode(node);
  await until('created', async () => (await ours.getNodes()).some((n) => n.id === node.id));
  node.comment = 'changed';
  await other.storeNode(node);
  await until('changed', async () => (await ours.getNodes()).find((n) => n.id === node.id)?.comment === 'changed');
  await other.deleteNode(node);
  await until('deleted', async () => !(await ours.getNodes()).some((n) => n.id === node.id));
  ours.stopCache();
});

test('a deleted child stays gone when a read made before the delete answers late; its id made again (parent re-created) is cached again', async () => {
  const writer = await connect(server.connectString);
  const reader = await connect(server.connectString);
  await writer.ensurePath('/recreate');
  await writer.create('/recreate/', Buffer.from('first'), { sequential: true });
  const cache = new ZnodeCache(reader, '/recreate', new CaptureLogger());
  await cache.start();
  expect(cache.ids()).toEqual(['0000000000']);
  // The other client deletes it while a read by ours is in flight: the read may answer with the
  // old data, and its answer is handed to us after the delete event.
  const late = reader.get('/recreate/0000000000').catch(() => undefined);
  await writer.delete('/recreate/0000000000');
  const answer = await late;
  await until('delete seen', () => cache.ids().length === 0);
  if (answer) cache.noteWrite('0000000000', answer.data as Buffer, answer.stat.version);
  expect(cache.ids()).toEqual([]);
  // The parent deleted and made again: the server counts from 0 again.
  await writer.deleteRecursive('/recreate');
  await writer.ensurePath('/recreate');
  await writer.create('/recreate/', Buffer.from('second'), { sequential: true });
  await until('the new child cached', () => cache.get('0000000000')?.data.toString() === 'second');
  cache.stop();
});
