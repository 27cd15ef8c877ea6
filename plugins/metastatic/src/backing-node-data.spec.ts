import { formatBackingUserData, metastaticOwnerId, parseBackingUserData, parseDriverData } from './backing-node-data';

const OWNER = metastaticOwnerId('meta');

describe('backing node user_data', () => {
  it('is written like Python json.dumps, in adapter.py key order', () => {
    expect(OWNER).toBe('NodePool:metastatic:meta');
    expect(formatBackingUserData({ owner: OWNER, label: 'user-label', slots: 2, failed: false, launched: 1700000000.25 })).toBe(
      '{"owner": "NodePool:metastatic:meta", "label": "user-label", "slots": 2, "failed": false, "launched": 1700000000.25}',
    );
  });

  it('round-trips and reads what Nodepool writes, with its recovery defaults', () => {
    const text = formatBackingUserData({ owner: OWNER, label: 'l', slots: 3, failed: true, launched: 12.5 });
    expect(parseBackingUserData(text, OWNER)).toEqual({ owner: OWNER, label: 'l', slots: 3, failed: true, launched: 12.5 });
    expect(parseBackingUserData('{"owner": "NodePool:metastatic:meta", "label": "l", "slots": 1}', OWNER)).toEqual({
      owner: OWNER, label: 'l', slots: 1, failed: false, launched: 0,
    });
  });

  it('ignores other owners, Zuul objects and junk', () => {
    expect(parseBackingUserData('{"owner": "NodePool:metastatic:other", "label": "l", "slots": 1}', OWNER)).toBeUndefined();
    expect(parseBackingUserData({ zuul_system: 'x' }, OWNER)).toBeUndefined();
    expect(parseBackingUserData('not json', OWNER)).toBeUndefined();
    expect(parseBackingUserData(null, OWNER)).toBeUndefined();
  });
});

describe('driver_data', () => {
  it('reads backing node and slot, tolerating a null backing node', () => {
    expect(parseDriverData({ metadata: { a: '1' }, backing_node: '0000000001', slot: 1, node: '0000000002' })).toEqual({
      metadata: { a: '1' }, backing_node: '0000000001', slot: 1, node: '0000000002',
    });
    expect(parseDriverData({ backing_node: null, slot: null })?.backing_node).toBeNull();
    expect(parseDriverData(null)).toBeUndefined();
    expect(parseDriverData('x')).toBeUndefined();
  });
});
