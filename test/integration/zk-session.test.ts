/**
 * Session loss and recovery against a real ZooKeeper: a server-side expiry (forced with the
 * session-id trick) and a silent network cut (through a black-holing TCP proxy).
 */
import zookeeper from 'node-zookeeper-client';
import { KazooLock } from '../../src/zk/kazoo-lock';
import type { ComponentRecord } from '../../src/zk/models/component';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { ConnectionLossError, SessionExpiredError } from '../../src/zk/zk-errors';
import { CaptureLogger } from '../support/capture-logger';
import { TcpProxy } from '../support/tcp-proxy';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

// jest's testTimeout in a `projects` entry is ignored (it is a global option), so set it here.
jest.setTimeout(30000);

let server: ZooKeeperServer;
let proxy: TcpProxy;
let observer: ZkClient;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startZooKeeper();
  proxy = await TcpProxy.start(server.host, server.port);
  cleanup.push(() => proxy.close());
  observer = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
  await observer.connect(10000);
});

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await observer?.close();
  await server?.stop();
});

/** Records the client's connection events in order. */
function recordEvents(client: ZkClient): string[] {
  const events: string[] = [];
  client.on('connected', (i) => events.push(i.newSession ? 'connected:new' : 'connected:same'));
  client.on('suspended', () => events.push('suspended'));
  client.on('lost', (i) => events.push(`lost:${i.reason}`));
  client.on('reconnected', () => events.push('reconnected'));
  return events;
}

/**
 * Expires `client`'s session on the server: a second connection attaches with the same session
 * id and password and closes the session (Curator's KillSession trick). The client talks through
 * the proxy, which is black-holed meanwhile: otherwise its fast reconnect steals the session
 * back before the close and the session survives.
 */
async function expireSession(client: ZkClient): Promise<void> {
  const creds = client.sessionCredentials();
  if (!creds) throw new Error('client has no session');
  proxy.pause();
  try {
    const thief = zookeeper.createClient(server.connectString, {
      sessionTimeout: 4000,
      retries: 0,
      ...({ sessionId: creds.id, sessionPassword: creds.password } as object),
    });
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

describe('session expiry', () => {
  test('emits lost then reconnected with a new session, re-registers, and drops ephemeral locks', async () => {
    const client = new ZkClient({ hosts: proxy.address, sessionTimeout: 2000, spinDelay: 50 });
    cleanup.push(() => client.close());
    const events = recordEvents(client);
    await client.connect(10000);
    const zk = new NodepoolZk(client, new CaptureLogger());
    const oldSession = client.sessionId;

    const registration = await zk.registerComponent<ComponentRecord>('launcher', {
      hostname: 'expiry-host', kind: 'launcher', state: 'running', version: 't', model_api: 0,
    });
    const oldPath = registration.path as string;
    expect(oldPath).toMatch(/^\/nodepool\/components\/launcher\/expiry-host\d{10}$/);

    const ephemeralLock = new KazooLock(client, '/locks/eph', 'eph');
    expect(await ephemeralLock.acquire({ blocking: false })).toBe(true);
    let lostCalls = 0;
    ephemeralLock.onLost(() => lostCalls++);
    const persistentLock = new KazooLock(client, '/locks/persistent', 'persist');
    expect(await persistentLock.acquire({ blocking: false, ephemeral: false })).toBe(true);

    const reconnected = new Promise<string>((resolve) => client.once('reconnected', (i) => resolve(i.sessionId)));
    await expireSession(client);
    const newSession = await reconnected;

    expect(newSession).not.toBe(oldSession);
    expect(client.sessionId).toBe(newSession);
    expect(client.state).toBe('connected');
    const lostIndex = events.indexOf('lost:expired');
    expect(lostIndex).toBeGreaterThan(0);
    expect(events.indexOf('reconnected')).toBeGreaterThan(lostIndex);

    // The registration now lives in a NEW sequential znode owned by the new session.
    const newPath = registration.path as string;
    expect(newPath).toMatch(/^\/nodepool\/components\/launcher\/expiry-host\d{10}$/);
    expect(newPath).not.toBe(oldPath);
    expect(await observer.exists(oldPath)).toBeNull();
    expect((await observer.get(newPath)).stat.ephemeralOwner).toBe(newSession);
    expect((await zk.getComponents('launcher')).map((c) => c.path)).toEqual([newPath]);
    await registration.update({ state: 'paused' });
    expect(JSON.parse((await observer.get(newPath)).data!.toString()).state).toBe('paused');

    // The ephemeral lock is gone with the session; the persistent one survives.
    expect(ephemeralLock.isAcquired).toBe(false);
    expect(lostCalls).toBe(1);
    expect(await observer.getChildren('/locks/eph')).toEqual([]);
    expect(persistentLock.isAcquired).toBe(true);
    expect(await observer.getChildren('/locks/persistent')).toHaveLength(1);
    // And the lock can be taken again in the new session.
    expect(await ephemeralLock.acquire({ blocking: false })).toBe(true);
    await ephemeralLock.release();
    await persistentLock.release();
    expect(await observer.getChildren('/locks/persistent')).toEqual([]);
  });

  test('a blocking acquire waiting when the session is lost rejects instead of hanging', async () => {
    const holder = new KazooLock(observer, '/locks/wait', 'holder');
    expect(await holder.acquire({ blocking: false })).toBe(true);
    const client = new ZkClient({ hosts: proxy.address, sessionTimeout: 2000, spinDelay: 50 });
    cleanup.push(() => client.close());
    await client.connect(10000);
    const waiter = new KazooLock(client, '/locks/wait', 'waiter');
    const attempt = waiter.acquire({ blocking: true }).catch((e: unknown) => e);
    await waitFor(async () => (await observer.getChildren('/locks/wait')).length === 2);
    await expireSession(client);
    expect(await attempt).toBeInstanceOf(SessionExpiredError);
    expect(waiter.isAcquired).toBe(false);
    await waitFor(async () => (await observer.getChildren('/locks/wait')).length === 1);
    await holder.release();
  });
});

describe('network faults through a proxy', () => {
  test('a dropped connection suspends and resumes the same session', async () => {
    const client = new ZkClient({ hosts: proxy.address, sessionTimeout: 3000, spinDelay: 50 });
    cleanup.push(() => client.close());
    const events = recordEvents(client);
    await client.connect(10000);
    const session = client.sessionId;
    const eph = await client.create('/blip', Buffer.alloc(0), { ephemeral: true });
    const resumed = new Promise<void>((resolve) => client.once('connected', () => resolve()));
    proxy.dropConnections();
    await resumed;
    expect(events).toEqual(['connected:new', 'suspended', 'connected:same']);
    expect(client.sessionId).toBe(session);
    expect(await observer.exists(eph)).not.toBeNull();
    await client.delete(eph);
  });

  test('a silent cut longer than the session timeout is declared lost by our own timer', async () => {
    const client = new ZkClient({ hosts: proxy.address, sessionTimeout: 2000, spinDelay: 50 });
    cleanup.push(() => client.close());
    const events = recordEvents(client);
    await client.connect(10000);
    const oldSession = client.sessionId;
    const registration = await client.registerEphemeral('/cut/worker-', Buffer.from('w'), { sequential: true });
    const oldPath = registration.path;

    const lost = new Promise<number>((resolve) => client.once('lost', () => resolve(Date.now())));
    const cutAt = Date.now();
    proxy.pause();
    // An operation issued during the cut settles once the session is declared lost.
    const during = client.get('/cut').catch((e: unknown) => e);
    const lostAt = await lost;
    // Read watchdog (2/3 timeout) notices the silence, then the session timeout passes.
    expect(lostAt - cutAt).toBeGreaterThanOrEqual(2000);
    expect(lostAt - cutAt).toBeLessThan(8000);
    const failure = await during;
    expect(failure instanceof SessionExpiredError || failure instanceof ConnectionLossError).toBe(true);
    expect(events).toEqual(['connected:new', 'suspended', 'lost:timeout']);
    expect(client.state).toBe('lost');
    expect(registration.path).toBeNull();

    const reconnected = new Promise<string>((resolve) => client.once('reconnected', (i) => resolve(i.sessionId)));
    proxy.resume();
    const newSession = await reconnected;
    expect(newSession).not.toBe(oldSession);
    expect(registration.path).toMatch(/^\/cut\/worker-\d{10}$/);
    expect(registration.path).not.toBe(oldPath);
    // The server expired the old session on its own, taking its ephemeral with it.
    await waitFor(async () => (await observer.getChildren('/cut')).length === 1);
    expect(await observer.getChildren('/cut')).toEqual([(registration.path as string).split('/').pop()]);
  });
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
