/**
 * Metastatic backing-node records shared with Python (real kazoo, Debian python3-kazoo): kazoo
 * sees our persistent backing lock with the owner id, and backing nodes that a Python launcher
 * claimed (kazoo persistent lock, `json.dumps` user_data) are recovered, used and released by us
 * — the Python → nodepool-ts rolling restart.
 */
import { Node } from '../../src/zk/models/node';
import { KazooPeer } from '../support/kazoo-peer';
import { MetastaticHarness, META, OWNER, TestClock, metastaticConfig } from '../support/metastatic-harness';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(60000);

let server: ZooKeeperServer;
let peer: KazooPeer;
const h = new MetastaticHarness(() => server);

beforeAll(async () => {
  server = await startZooKeeper();
  await h.setup();
  peer = await KazooPeer.start(server.connectString);
});
afterEach(async () => h.reset());
afterAll(async () => {
  await peer?.stop();
  await h.teardown();
  await server?.stop();
});

const CONFIG = (): ReturnType<typeof metastaticConfig> =>
  metastaticConfig('      - name: user-label\n        backing-label: backing\n        max-parallel-jobs: 2\n        grace-time: 0\n');

describe('metastatic records and kazoo', () => {
  it('kazoo sees our backing lock: one persistent contender whose data is the owner id, surviving our session', async () => {
    const a = await h.startMeta(CONFIG(), new TestClock());
    await h.startStatic(['127.0.0.1']);
    const { node } = await h.launch(a, 'user-label');
    const x = (node.driver_data as { backing_node: string }).backing_node;
    expect(await peer.contenders(`/nodepool/nodes/${x}/lock`)).toEqual([OWNER]);
    await a.client.close(); // launcher A's process ends
    expect(await peer.contenders(`/nodepool/nodes/${x}/lock`)).toEqual([OWNER]);
  });

  it('recovers a backing node a Python launcher claimed, fills its free slot and releases it (kazoo contender removed)', async () => {
    await h.startStatic(['127.0.0.1']);
    const [x] = await h.nodesOf('static-backing', 'ready');
    const launched = 1795000000.5;
    // What Python's metastatic adapter does on claim: kazoo persistent lock with the owner id,
    // json.dumps user_data, in-use.
    expect(await peer.acquire('backing', `/nodepool/nodes/${x.id}/lock`, { identifier: OWNER, ephemeral: false })).toBe(true);
    x.user_data = `{"owner": "${OWNER}", "label": "user-label", "slots": 2, "failed": false, "launched": ${launched}}`;
    x.state = 'in-use';
    await h.zk.storeNode(x);
    // A node Python put into slot 0 (driver_data as MS:132-137).
    const n0 = new Node();
    n0.state = 'in-use';
    n0.type = ['user-label'];
    n0.provider = META;
    n0.pool = 'main';
    n0.slot = 0;
    n0.driver_data = { metadata: {}, backing_node: x.id, slot: 0, node: null };
    await h.zk.createNode(n0);
    n0.driver_data = { metadata: {}, backing_node: x.id, slot: 0, node: n0.id };
    await h.zk.storeNode(n0);

    const b = await h.startMeta(CONFIG(), new TestClock());
    expect(b.provider.allocator.describe()).toEqual([
      { backingNodeId: x.id, label: 'user-label', slots: 2, failed: false, launched, requestId: null, waiters: [] },
    ]);
    const { node: n1, result } = await h.launch(b, 'user-label');
    expect(result).toMatchObject({ state: 'ready', attempts: 1 });
    expect(n1.driver_data).toMatchObject({ backing_node: x.id, slot: 1 });
    expect(await h.zk.getNodeRequests()).toEqual([]);

    await b.provider.cleanup(); // both slots taken: kept
    expect(await peer.contenders(`/nodepool/nodes/${x.id}/lock`)).toEqual([OWNER]);
    await h.remove(b, n1);
    await h.zk.deleteNode(n0);
    await b.provider.cleanup();
    // Our (kazoo) contender is gone. The static launcher's deleted-node worker may already hold
    // the now `used` backing node's lock anonymously (''), depending on timing: not ours.
    expect(await peer.contenders(`/nodepool/nodes/${x.id}/lock`).catch(() => [])).not.toContain(OWNER);
    expect((await h.zk.getNode(x.id as string))?.state ?? 'gone').not.toBe('in-use');
  });
});
