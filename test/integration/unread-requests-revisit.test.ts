/**
 * Issue 17: a request left unread at its create (another launcher's pool is its reader) is read
 * when a change of the pool records makes this launcher its reader, and only then: a pool record
 * that changes without moving the reader (`paused` flips at quota all the time) reads nothing.
 */
import { requestReader } from '../../src/launcher/rendezvous';
import type { PoolComponentRecord } from '../../src/zk/models/component';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const TS = '0.1.0 nodepool-ts';
const pool = (id: string, paused = false): PoolComponentRecord => ({
  hostname: id, kind: 'pool', state: 'running', version: TS, model_api: 0, id, name: 'main', provider_name: `p-${id}`, supported_labels: ['small'], priority: 100, paused,
});

it('reads an unread request when it becomes ours, not on every pool record change', async () => {
  const paths: Record<string, string> = {};
  for (const id of ['mine', 'theirs']) {
    paths[id] = await h.client.create('/nodepool/components/pool/x', Buffer.from(JSON.stringify(pool(id))), { sequential: true, ephemeral: true, makeParents: true });
  }
  const client = new ZkClient({ hosts: h.server.connectString });
  await client.connect();
  const zk = new NodepoolZk(client, new CaptureLogger());
  const reads = new Map<string, number>();
  const get = client.get.bind(client);
  client.get = async (path, watch) => {
    const id = /^\/nodepool\/requests\/([^/]+)$/.exec(path)?.[1];
    if (id) reads.set(id, (reads.get(id) ?? 0) + 1);
    return get(path, watch);
  };
  try {
    // Read only what pool `mine` is the reader of (as the engine's rule does).
    zk.followRequestCreates((id, pools) => requestReader(id, pools)?.id === 'mine', { readAfterMs: 600_000 });
    await zk.startCache();
    await waitUntil('both pools cached', async () => (await zk.getRegisteredPools()).length === 2);
    const both = await zk.getRegisteredPools();
    // Requests until one has the other pool as its reader.
    let theirs: string | undefined;
    for (let i = 0; i < 20 && !theirs; i++) {
      const r = await h.zk.submitNodeRequest(Object.assign(new NodeRequest(), { node_types: ['small'] }));
      if (requestReader(r.id as string, both)?.id === 'theirs') theirs = r.id as string;
    }
    expect(theirs).toBeDefined();
    await sleep(300);
    expect(reads.get(theirs as string) ?? 0).toBe(0);

    // Both records change without moving the reader (a pool record's `paused` or `priority`
    // changes all the time): still unread.
    for (const [id, priority] of [['theirs', 101], ['mine', 101], ['theirs', 100], ['mine', 100]] as const) {
      await h.client.set(paths[id], Buffer.from(JSON.stringify({ ...pool(id), priority })));
      await sleep(100);
    }
    await sleep(200);
    expect(reads.get(theirs as string) ?? 0).toBe(0);

    // The other pool goes: `mine` is the reader now, and the request is read.
    await h.client.delete(paths.theirs);
    await waitUntil('read once its reader is gone', async () => (reads.get(theirs as string) ?? 0) > 0 && (await zk.getNodeRequests({ stale: 'keep' })).some((r) => r.id === theirs));
  } finally {
    zk.stopCache();
    await client.close();
  }
});
