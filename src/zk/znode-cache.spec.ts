import { MemoryZkClient } from '../../test/support/memory-zk-client';
import { CaptureLogger } from '../../test/support/capture-logger';
import type { ZkWatchEvent, ZnodeStat } from '../plugins/zookeeper';
import { ZnodeCache } from './znode-cache';

/** Persistent watch events sent by the test; reads answered once `gate` opens. */
class GatedClient extends MemoryZkClient {
  listener: ((event: ZkWatchEvent) => void) | undefined;
  gate: Promise<void> | undefined;
  async addPersistentWatch(_path: string, listener: (event: ZkWatchEvent) => void): Promise<void> {
    this.listener = listener;
  }
  override async get(path: string): Promise<{ data: Buffer | null; stat: ZnodeStat }> {
    const answer = await super.get(path);
    await this.gate;
    return answer;
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('ZnodeCache', () => {
  test('an answer that arrives after its child was seen deleted does not bring the child back', async () => {
    const client = new MemoryZkClient();
    await client.ensurePath('/nodepool/nodes');
    await client.create('/nodepool/nodes/0000000001', Buffer.from('{"state":"used"}'));
    const cache = new ZnodeCache(client, '/nodepool/nodes', new CaptureLogger());
    await cache.start();
    expect(cache.ids()).toEqual(['0000000001']);
    // A read made just before the delete (a getNode, the cache's own re-read) is answered with
    // the last data; the client delivers the delete event first, the answer a tick later.
    const { data, stat } = await client.get('/nodepool/nodes/0000000001');
    await client.set('/nodepool/nodes/0000000001', Buffer.from('{"state":"deleted"}'));
    await client.delete('/nodepool/nodes/0000000001');
    await settle();
    expect(cache.ids()).toEqual([]);
    cache.noteWrite('0000000001', data as Buffer, stat.version + 1);
    expect(cache.ids()).toEqual([]);
    expect(cache.get('0000000001')).toBeUndefined();
    cache.stop();
  });

  test('caughtUp waits for the reads that events received so far started', async () => {
    const client = new GatedClient();
    await client.ensurePath('/nodepool/nodes');
    const cache = new ZnodeCache(client, '/nodepool/nodes', new CaptureLogger());
    await cache.start();
    expect(cache.watchMode).toBe('persistent');
    let open!: () => void;
    client.gate = new Promise((r) => (open = r));
    await client.create('/nodepool/nodes/0000000001', Buffer.from('{"state":"ready"}'));
    client.listener?.({ type: 'created', path: '/nodepool/nodes/0000000001' });
    let caughtUp = false;
    void cache.caughtUp().then(() => (caughtUp = true));
    await settle();
    expect([caughtUp, cache.ids()]).toEqual([false, []]);
    open();
    await settle();
    expect([caughtUp, cache.ids()]).toEqual([true, ['0000000001']]);
    await cache.caughtUp(); // nothing in flight: at once
    cache.stop();
  });
});
