import { isLeaked, leakTags, LeakSightings, strayResourceTags } from './leak-tags';

describe('leak tags and the second-sighting rule', () => {
  it('tags name node, pool and provider; a leak is this provider\'s with an unknown node id (stray resources included)', () => {
    const tags = leakTags('0000000001', 'main', 'cloud-a');
    expect(tags).toEqual({ nodepool_node_id: '0000000001', nodepool_pool_name: 'main', nodepool_provider_name: 'cloud-a' });
    expect(isLeaked(tags, 'cloud-a', new Set(['0000000001']))).toBe(false);
    expect(isLeaked(tags, 'cloud-a', new Set())).toBe(true);
    expect(isLeaked(tags, 'cloud-b', new Set())).toBe(false);
    expect(isLeaked({}, 'cloud-a', new Set())).toBe(false);
    expect(isLeaked(strayResourceTags('cloud-a'), 'cloud-a', new Set())).toBe(true);
  });

  it('confirms a suspect only when seen on two passes in a row', () => {
    const s = new LeakSightings();
    expect(s.pass(['instance:a', 'instance:b'])).toEqual({ confirmed: [], suspected: ['instance:a', 'instance:b'] });
    expect(s.pass(['instance:a', 'port:p'])).toEqual({ confirmed: ['instance:a'], suspected: ['port:p'] });
    // b was not seen on the last pass: a new suspect again.
    expect(s.pass(['instance:b'])).toEqual({ confirmed: [], suspected: ['instance:b'] });
  });
});
