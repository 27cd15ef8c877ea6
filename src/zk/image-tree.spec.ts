import { MemoryZkClient } from '../../test/support/memory-zk-client';
import { readImageTree } from './image-tree';

async function put(zk: MemoryZkClient, path: string, body?: unknown): Promise<void> {
  const parent = path.slice(0, path.lastIndexOf('/'));
  if (parent) await zk.ensurePath(parent);
  await zk.create(path, body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
}

describe('readImageTree', () => {
  it('a missing or empty tree is empty', async () => {
    const zk = new MemoryZkClient();
    expect(await readImageTree(zk)).toEqual({ images: [], problems: [] });
    await zk.ensurePath('/nodepool/images/bare');
    expect(await readImageTree(zk)).toEqual({ images: [{ name: 'bare', paused: false, buildRequest: null, builds: [] }], problems: [] });
  });

  it('ignores lock dirs, sorts every level and reports unusable records by path', async () => {
    const zk = new MemoryZkClient();
    const b = '/nodepool/images/img/builds';
    await put(zk, `${b}/lock/x__lock__0000000000`);
    await put(zk, `${b}/bb`, { state: 'ready', state_time: 2, formats: 'raw' });
    await put(zk, `${b}/aa`, { state: 'ready' }); // missing state_time
    await put(zk, `${b}/aa/lock`);
    await put(zk, `${b}/aa/providers/p2/images/0000000001`, { state: 'ready', state_time: 3, external_id: 'e' });
    await put(zk, `${b}/aa/providers/p1/images/0000000002`, '[1, 2]');
    await put(zk, `${b}/aa/providers/p1/images/lock`);
    await put(zk, '/nodepool/images/img/request-build');
    const tree = await readImageTree(zk);
    expect(tree.problems).toEqual([
      { path: `${b}/aa`, reason: 'missing or non-numeric state_time' },
      { path: `${b}/aa/providers/p1/images/0000000002`, reason: 'body is not a JSON object' },
    ]);
    const [image] = tree.images;
    expect(image.buildRequest).toEqual({ created: expect.any(Number), building: true });
    expect(image.builds.map((x) => [x.id, x.build?.state ?? null, x.providers.map((p) => [p.provider, p.uploads.map((u) => u.id)])])).toEqual([
      ['aa', null, [['p1', []], ['p2', ['0000000001']]]],
      ['bb', 'ready', []],
    ]);
  });
});
