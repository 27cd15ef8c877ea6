import { baseName, buildConnectString, joinPath, mapLimit, normalizeChroot, parentPath } from './zk-path';

describe('zk paths', () => {
  test('parentPath treats a trailing slash as "a child of this dir"', () => {
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/')).toBe('/');
    expect(parentPath('/nodepool/nodes/')).toBe('/nodepool/nodes');
  });

  test('joinPath and baseName', () => {
    expect(joinPath('/', 'a')).toBe('/a');
    expect(joinPath('/a', 'b')).toBe('/a/b');
    expect(baseName('/nodepool/nodes/0000000001')).toBe('0000000001');
  });

  test('chroots are normalised and an explicit one replaces the one in the hosts string', () => {
    expect(normalizeChroot(undefined)).toBeUndefined();
    expect(normalizeChroot('/')).toBeUndefined();
    expect(normalizeChroot('nodepool/')).toBe('/nodepool');
    expect(buildConnectString('h1:2181,h2:2181')).toBe('h1:2181,h2:2181');
    expect(buildConnectString('h1:2181,h2:2181/np/')).toBe('h1:2181,h2:2181/np');
    expect(buildConnectString('h1:2181/np', '/other')).toBe('h1:2181/other');
    expect(buildConnectString('h1:2181/np', '')).toBe('h1:2181');
  });

  test('mapLimit keeps order and bounds concurrency', async () => {
    let inFlight = 0;
    let max = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(max).toBe(2);
  });
});
