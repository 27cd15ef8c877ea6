import { NodeRequest } from '../zk/models/node-request';
import { distinctLabels, labelList, requestComparator } from './request-order';

function request(id: string, labels: string[]): NodeRequest {
  const r = new NodeRequest(id);
  r.node_types = labels;
  return r;
}

describe('request judging helpers', () => {
  it('de-duplicates a label list once per list', () => {
    const r = request('100-0000000001', Array.from({ length: 20_000 }, () => 'small'));
    const first = distinctLabels(r);
    expect(first).toEqual(['small']);
    // A copy sharing the list (as the cache hands out) gets the memoised answer.
    expect(distinctLabels(Object.assign(new NodeRequest(r.id), r))).toBe(first);
  });

  it('names at most five labels in a message', () => {
    expect(labelList(['a', 'b'])).toBe('a, b');
    expect(labelList(Array.from({ length: 5000 }, (_, i) => `l${i}`))).toBe('l0, l1, l2, l3, l4, … (5000 in all)');
  });

  it('counts missing labels once per request and sort', () => {
    const huge = request('100-0000000002', Array.from({ length: 10_000 }, (_, i) => `x${i}`));
    const small = request('100-0000000003', ['small']);
    const seen = jest.fn();
    const labels = new Set(['small']);
    const spy = { has: (l: string): boolean => (seen(), labels.has(l)) };
    const sorted = Array.from({ length: 50 }, (_, i) => (i % 2 ? huge : request(`200-${String(i).padStart(10, '0')}`, ['small'])));
    sorted.push(small);
    sorted.sort(requestComparator(spy));
    expect(sorted[sorted.length - 1]).toBe(huge);
    // Each distinct request object walked once: 10 000 for the big one, one per small one.
    expect(seen).toHaveBeenCalledTimes(10_000 + 26);
  });
});
