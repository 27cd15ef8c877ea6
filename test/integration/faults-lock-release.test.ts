/**
 * Fault test: a lock released while ZooKeeper is unreachable, for longer than a few retries but
 * shorter than the session timeout. The session survives the cut, so its ephemeral contender
 * would too: a release that gave up would leave the lock held for good by a session that no
 * longer uses it (seen in the ensemble fault test during a leader election: a node never deleted,
 * a request lock never freed). The release must keep trying until the connection is back.
 */
import { KazooLock } from '../../src/zk/kazoo-lock';
import { ZkClient } from '../../src/zk/zk-client';
import { sleep } from '../support/engine-harness';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(60_000);

let server: ZooKeeperServer;
let observer: ZkClient;

beforeAll(async () => {
  server = await startZooKeeper();
  observer = new ZkClient({ hosts: server.connectString });
  await observer.connect();
});
afterAll(async () => {
  await observer?.close();
  await server?.stop();
});

describe('lock release while ZooKeeper is unreachable', () => {
  it('a release while the server is down for less than the session timeout completes once it is back', async () => {
    // Server down: every attempt fails at once with a connection loss (a black-holed connection
    // would just hold the request until the cut ends), as during a leader election.
    const client = new ZkClient({ hosts: server.connectString, sessionTimeout: 20_000, spinDelay: 50 });
    try {
      await client.connect();
      const session = client.sessionId;
      const lock = new KazooLock(client, '/faults/lock-release');
      expect(await lock.acquire({ blocking: false })).toBe(true);
      await observer.close();
      await server.kill();
      const released = lock.release().then(() => 'released', (err: Error) => `failed: ${err.message}`);
      await sleep(6000); // longer than the old 5 retries (~3 s), well within the session
      await server.restart();
      expect(await released).toBe('released');
      expect(client.sessionId).toBe(session); // the session survived: only the delete freed it
      observer = new ZkClient({ hosts: server.connectString });
      await observer.connect();
      expect(await observer.getChildren('/faults/lock-release')).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
