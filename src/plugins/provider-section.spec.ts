import { s } from './config-schema';
import { validate } from './config-validation';
import { COMMON_POOL_FIELDS, validateProviderSection, withCommonKeys } from './provider-section';

describe('withCommonKeys', () => {
  it('adds the common provider keys with their defaults', () => {
    const schema = withCommonKeys(s.object({ cloud: s.str() }));
    expect(validate(schema, { name: 'p' })).toEqual({
      value: { name: 'p', driver: 'openstack', 'max-concurrency': -1, pools: [] },
      issues: [],
    });
    expect(validate(schema, {}).issues).toEqual([{ path: 'name', message: 'required key not provided' }]);
  });

  it('adds the common pool keys to the driver pool schema, keeping its modifiers', () => {
    const schema = withCommonKeys(s.object({ pools: s.list(s.object({ size: s.int().default(1) })).required() }));
    expect(validate(schema, { name: 'p' }).issues).toEqual([{ path: 'pools', message: 'required key not provided' }]);
    expect(validate(schema, { name: 'p', pools: [{ name: 'a', 'max-servers': 2, priority: 1, 'node-attributes': { x: 1 } }] }).value).toMatchObject({
      pools: [{ name: 'a', size: 1, 'max-servers': 2, priority: 1, 'node-attributes': { x: 1 } }],
    });
    expect(Object.keys(COMMON_POOL_FIELDS)).toEqual(['name', 'max-servers', 'node-attributes', 'priority']);
  });

  it('common keys replace same-named driver keys', () => {
    const schema = withCommonKeys(s.object({ 'max-concurrency': s.str() }));
    expect(validate(schema, { name: 'p', 'max-concurrency': 'x' }).issues).toEqual([{ path: 'max-concurrency', message: 'expected int, got str "x"' }]);
  });
});

describe('validateProviderSection', () => {
  const driver = {
    name: 'd',
    providerSchema: s.object({ pools: s.list(s.object({ labels: s.list(s.str()).default([]) })).default([]) }),
    poolLabels: (pool: Record<string, unknown>) => pool.labels as string[],
  };

  it('normalizes pools: max-servers Infinity when unset, priority pool > provider > 100, unique labels', () => {
    const { config } = validateProviderSection(driver, { name: 'p', priority: 7, pools: [{ name: 'a', labels: ['x', 'x'] }, { name: 'b', priority: 2 }] }, 3, '/f.yaml');
    expect(config).toMatchObject({ name: 'p', driver: 'd', maxConcurrency: -1, priority: 7, location: '/f.yaml: providers[3]' });
    expect(config!.pools.map((p) => [p.name, p.maxServers, p.priority, p.labels, p.nodeAttributes])).toEqual([
      ['a', Infinity, 7, ['x'], null],
      ['b', Infinity, 2, [], null],
    ]);
    expect(validateProviderSection(driver, { name: 'p', pools: [{ name: 'a' }] }, 0, '/f').config!.pools[0].priority).toBe(100);
  });

  it('reports a driver whose poolLabels throws', () => {
    const broken = { ...driver, poolLabels: (): string[] => { throw new Error('boom'); } };
    expect(validateProviderSection(broken, { name: 'p', pools: [{ name: 'a' }] }, 0, '/f').issues).toEqual([
      { path: 'providers[0]', message: 'driver "d" failed to read the pool labels: boom' },
    ]);
  });
});
