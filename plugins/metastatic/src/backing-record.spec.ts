import { BackingRecord, layoutSlots } from './backing-record';

describe('layoutSlots', () => {
  it('gives each claimant its slot and lists the free ones', () => {
    const l = layoutSlots(3, [{ nodeId: '0000000005', slot: 2 }, { nodeId: '0000000004', slot: 0 }]);
    expect([...l.assigned]).toEqual([['0000000004', 0], ['0000000005', 2]]);
    expect(l.free).toEqual([1]);
    expect(l.overflow).toEqual([]);
    expect(l.moved).toEqual([]);
  });

  it('keeps the first claimant of a double-booked slot and moves the second into a free slot', () => {
    const l = layoutSlots(2, [{ nodeId: '0000000009', slot: 0 }, { nodeId: '0000000003', slot: 0 }]);
    expect(l.assigned.get('0000000003')).toBe(0);
    expect(l.assigned.get('0000000009')).toBe(1);
    expect(l.free).toEqual([]);
    expect(l.moved).toEqual(['0000000009']);
  });

  it('counts claimants beyond the slot count as overflow, so the node never looks free', () => {
    const l = layoutSlots(1, [{ nodeId: '0000000001', slot: 0 }, { nodeId: '0000000002', slot: 0 }, { nodeId: '0000000003', slot: 5 }]);
    expect([...l.assigned]).toEqual([['0000000001', 0]]);
    expect(l.overflow).toEqual(['0000000002', '0000000003']);
    expect(l.free).toEqual([]);
  });

  it('treats a claim without slot number as needing any free slot', () => {
    const l = layoutSlots(2, [{ nodeId: '0000000001', slot: null }]);
    expect(l.assigned.get('0000000001')).toBe(0);
    expect(l.free).toEqual([1]);
  });
});

describe('BackingRecord', () => {
  it('is pending until it has a backing node, and snapshots its persisted fields', () => {
    const r = new BackingRecord('user-label', 2, 1000.5);
    expect(r.live).toBe(false);
    r.backingNodeId = '0000000007';
    expect(r.live).toBe(true);
    expect(r.snapshot()).toEqual({ backingNodeId: '0000000007', label: 'user-label', slots: 2, failed: false, launched: 1000.5 });
    expect(r.lastUsed).toBe(1000.5);
  });
});
