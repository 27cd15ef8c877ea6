import type { ZkCreateOptions, ZnodeStat } from '../plugins/zookeeper';
import { Registration, type RegistrationHost } from './ephemeral-registration';
import { BadVersionError, NoNodeError } from './zk-errors';

/** A host that records calls and names sequential znodes 0, 1, 2, ... */
function fakeHost(): RegistrationHost & { writes: string[]; store: Map<string, { data: string; version: number }>; forgotten: number } {
  let seq = 0;
  const store = new Map<string, { data: string; version: number }>();
  const host = {
    writes: [] as string[],
    store,
    forgotten: 0,
    async create(path: string, data: Buffer, options: ZkCreateOptions): Promise<string> {
      expect(options).toMatchObject({ ephemeral: true, makeParents: true });
      const full = options.sequential ? `${path}${String(seq++).padStart(10, '0')}` : path;
      store.set(full, { data: data.toString(), version: 0 });
      host.writes.push(`create ${full} ${data.toString()}`);
      return full;
    },
    async set(path: string, data: Buffer, version: number): Promise<ZnodeStat> {
      const node = store.get(path);
      if (!node) throw new NoNodeError(path);
      if (version !== node.version) throw new BadVersionError(path);
      node.data = data.toString();
      node.version++;
      host.writes.push(`set ${path} ${data.toString()}`);
      return { version: node.version } as ZnodeStat;
    },
    async delete(path: string): Promise<void> {
      if (!store.delete(path)) throw new NoNodeError(path);
    },
    forget(): void {
      host.forgotten++;
    },
  };
  return host;
}

describe('ephemeral Registration', () => {
  test('updates are version-checked and re-creation after a loss uses the latest data', async () => {
    const host = fakeHost();
    const reg = new Registration(host, '/c/host', Buffer.from('v1'), true);
    await reg.recreate();
    expect(reg.path).toBe('/c/host0000000000');
    await reg.update(Buffer.from('v2'));
    expect(reg.version).toBe(1);

    reg.markLost();
    host.store.clear(); // the ephemeral died with the session
    expect(reg.isPending).toBe(true);
    await reg.update(Buffer.from('v3')); // no znode now: kept for the re-creation
    await reg.recreate();
    expect(reg.path).toBe('/c/host0000000001');
    expect(host.store.get('/c/host0000000001')).toEqual({ data: 'v3', version: 0 });
    await reg.update(Buffer.from('v4'));
    expect(host.writes).toEqual(['create /c/host0000000000 v1', 'set /c/host0000000000 v2', 'create /c/host0000000001 v3', 'set /c/host0000000001 v4']);
  });

  test('a foreign write makes update fail with BadVersionError', async () => {
    const host = fakeHost();
    const reg = new Registration(host, '/c/x', Buffer.from('a'), false);
    await reg.recreate();
    (host.store.get('/c/x') as { version: number }).version = 5;
    await expect(reg.update(Buffer.from('b'))).rejects.toBeInstanceOf(BadVersionError);
  });

  test('unregister deletes the znode, is idempotent and stops re-creation', async () => {
    const host = fakeHost();
    const reg = new Registration(host, '/c/y', Buffer.from('a'), false);
    await reg.recreate();
    await reg.unregister();
    await reg.unregister();
    expect(host.store.size).toBe(0);
    expect(host.forgotten).toBe(1);
    await reg.recreate();
    expect(host.store.size).toBe(0);
    await expect(reg.update(Buffer.from('z'))).rejects.toThrow(/unregistered/);
  });
});
