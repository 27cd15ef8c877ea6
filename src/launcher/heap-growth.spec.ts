import v8 from 'node:v8';
import { limitHeapGrowth } from './heap-growth';

describe('limitHeapGrowth', () => {
  afterEach(() => jest.restoreAllMocks());

  it('sets 50 % by default and honours a valid override', () => {
    const set = jest.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    expect(limitHeapGrowth({})).toBe(50);
    expect(limitHeapGrowth({ NODEPOOL_TS_HEAP_GROWING_PERCENT: '0' })).toBe(0);
    expect(limitHeapGrowth({ NODEPOOL_TS_HEAP_GROWING_PERCENT: '100' })).toBe(100);
    expect(set.mock.calls.map((c) => c[0])).toEqual(['--heap-growing-percent=50', '--heap-growing-percent=0', '--heap-growing-percent=100']);
  });

  it('ignores an override that is not a non-negative integer', () => {
    jest.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    expect(limitHeapGrowth({ NODEPOOL_TS_HEAP_GROWING_PERCENT: 'lots' })).toBe(50);
    expect(limitHeapGrowth({ NODEPOOL_TS_HEAP_GROWING_PERCENT: '-5' })).toBe(50);
  });
});
