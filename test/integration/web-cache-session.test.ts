/**
 * The web app's watch-fed cache across a session expiry: changes made while the session was gone
 * (its watches died with it) show up once the new session rebuilt the copy.
 */
import zookeeper from 'node-zookeeper-client';
import { quietLogger } from '../../src/cli/cli-zk';
import { StatusCache } from '../../src/web/status-cache';
import { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { TcpProxy } from '../support/tcp-proxy';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
let proxy: TcpProxy;
let writer: ZkClient;
let client: ZkClient;
let cache: StatusCache;

beforeAll(async () => {
  server = await startZooKeeper();
  proxy = await TcpProxy.start(server.host, server.port);
  writer = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await writer.connect(10000);
});

afterAll(async () => {
  cache?.stop();
  await client?.close();
  await writer?.close();
  await proxy?.close();
  await server?.stop();
});

/** Expires `victim`'s session on the server (see zk-session.test.ts for the trick). */
async function expireSession(victim: ZkClient, duringCut: () => Promise<void>): Promise<void> {
  const creds = victim.sessionCredentials();
  if (!creds) throw new Error('no session');
  proxy.pause();
  try {
    await duringCut();
    const thief = zookeeper.createClient(server.connectString, { sessionTimeout: 4000, retries: 0, ...({ sessionId: creds.id, sessionPassword: creds.password } as object) });
    await new Promise<void>((resolve) => {
      thief.once('connected', () => resolve());
      thief.connect();
    });
    await new Promise<void>((resolve) => {
      thief.once('disconnected', () => resolve());
      thief.close();
    });
  } finally {
    proxy.resume();
  }
}

async function eventually(probe: () => boolean, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('rebuilds the copy after a session expiry and follows changes made meanwhile', async () => {
  const zk = new NodepoolZk(writer, quietLogger);
  const node = new Node();
  Object.assign(node, { provider: 'p', type: ['small'] });
  node.state = 'ready';
  await zk.createNode(node);

  client = new ZkClient({ hosts: proxy.address, sessionTimeout: 2000, spinDelay: 50, logger: quietLogger });
  await client.connect(10000);
  cache = new StatusCache(client, quietLogger);
  await cache.start();
  expect(cache.nodeRows().map((r) => [r.id, r.state])).toEqual([[node.id, 'ready']]);

  const added = new Node();
  Object.assign(added, { provider: 'p', type: ['small'] });
  added.state = 'building';
  const reconnected = new Promise<void>((resolve) => client.once('reconnected', () => resolve()));
  await expireSession(client, async () => {
    node.state = 'in-use';
    await zk.storeNode(node);
    await zk.createNode(added);
  });
  await reconnected;
  await eventually(() => cache.nodeRows().length === 2 && cache.nodeRows()[0].state === 'in-use');
  expect(cache.nodeRows().map((r) => [r.id, r.state])).toEqual([[node.id, 'in-use'], [added.id, 'building']]);

  // And the new session's watches work.
  await zk.deleteNode(added);
  await eventually(() => cache.nodeRows().length === 1);
});
