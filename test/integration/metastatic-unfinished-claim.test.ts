/**
 * A metastatic launcher killed inside a backing claim (its persistent lock taken, `user_data`
 * not yet written) leaves the backing node locked by the provider's owner id and allocated to a
 * request that vanished with the launcher's session. BackingRecordRepository.releaseUnfinishedClaims
 * removes exactly such locks, once old enough, and nothing else; the backing provider's launcher
 * then de-allocates the node as for any vanished request. Real ZooKeeper; ages come from an
 * injected "now", not from waiting.
 */
import { BackingRecordRepository } from '../../plugins/metastatic/src/backing-record-repository';
import { formatBackingUserData, metastaticOwnerId } from '../../plugins/metastatic/src/backing-node-data';
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(30000);

let server: ZooKeeperServer;
const clients: ZkClient[] = [];
const OWNER = metastaticOwnerId('meta');
/** Far after any contender made here: every lock counts as old. */
const LATER = Date.now() + 3_600_000;

beforeAll(async () => {
  server = await startZooKeeper();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await server?.stop();
});

async function connect(chroot: string): Promise<NodepoolZk> {
  const root = new ZkClient({ hosts: server.connectString, sessionTimeout: 4000 });
  clients.push(root);
  await root.connect(10000);
  await root.ensurePath(chroot);
  const client = new ZkClient({ hosts: server.connectString, chroot, sessionTimeout: 4000 });
  clients.push(client);
  await client.connect(10000);
  return new NodepoolZk(client, new CaptureLogger());
}

/** A backing node allocated to `request`, locked persistently by `identifier` (or not locked). */
async function backingNode(zk: NodepoolZk, request: string, identifier?: string, userData?: string, state: 'ready' | 'in-use' = 'ready'): Promise<string> {
  const node = new Node();
  node.state = state;
  Object.assign(node, { provider: 'backing', type: ['backing-label'], allocated_to: request, user_data: userData ?? null });
  await zk.createNode(node);
  if (identifier) {
    const lock = await zk.lockNode(node, { blocking: false, ephemeral: false, identifier });
    if (!lock) throw new Error('lock not taken');
    // Left as a killed launcher leaves it: the contender stays (it is persistent).
  }
  return node.id as string;
}

describe('backing claims that never finished', () => {
  test('our old lock on a node of a vanished request is removed; nothing else is touched', async () => {
    const zk = await connect('/unfinished-claim');
    const repo = new BackingRecordRepository(zk, OWNER, 'meta', new CaptureLogger());
    const live = new NodeRequest();
    live.node_types = ['backing-label'];
    await zk.submitNodeRequest(live);

    const leaked = await backingNode(zk, '100-0000009999', OWNER);
    const requestAlive = await backingNode(zk, live.id as string, OWNER);
    const someoneElses = await backingNode(zk, '100-0000009998', 'NodePool:metastatic:other');
    const claimed = await backingNode(zk, '100-0000009997', OWNER, formatBackingUserData({ owner: OWNER, label: 'user-label', slots: 4, failed: false, launched: 1 }));
    const unlocked = await backingNode(zk, '100-0000009996');
    // Claimed (its request deleted, as a claim does) but with `user_data` rewritten by somebody:
    // still ours, in use.
    const rewritten = await backingNode(zk, '100-0000009995', OWNER, '{"owner": "somebody"}', 'in-use');

    // Young locks are left alone (a claim in progress looks the same for a moment).
    expect(await repo.releaseUnfinishedClaims()).toEqual([]);
    expect(await repo.releaseUnfinishedClaims(120_000, LATER)).toEqual([leaked]);
    expect(await zk.getNodeLockContenders(leaked)).toEqual([]);
    for (const id of [requestAlive, someoneElses, claimed, rewritten]) expect(await zk.getNodeLockContenders(id)).toHaveLength(1);
    expect(await zk.getNodeLockContenders(unlocked)).toEqual([]);
    // Done once: a second pass finds nothing more.
    expect(await repo.releaseUnfinishedClaims(120_000, LATER)).toEqual([]);
  });
});
