import { NodeRequest } from '../zk/models/node-request';
import type { PoolComponentRecord } from '../zk/models/component';
import { applyDecline, assignDecision, type OwnPool } from './assign-decision';
import { newPoolLauncherId } from './pool-id';
import { requestComparator } from './request-order';

function req(id: string, labels: string[], extra: Partial<Pick<NodeRequest, 'relative_priority' | 'provider' | 'declined_by'>> = {}): NodeRequest {
  const r = new NodeRequest(id);
  r.node_types = labels;
  Object.assign(r, extra);
  return r;
}

function pool(id: string, provider: string, labels: string[], priority = 100, paused = false): PoolComponentRecord {
  return { hostname: 'h', kind: 'pool', state: 'running', version: 'v', model_api: 0, id, name: 'main', provider_name: provider, supported_labels: labels, priority, paused };
}

const own: OwnPool = { id: 'us', provider: 'p-us', priority: 100, labels: new Set(['a', 'b']) };
const us = pool('us', 'p-us', ['a', 'b']);

describe('requestComparator', () => {
  it('orders by missing labels, priority string, relative_priority number, sequence string', () => {
    const rs = [
      req('100-0000000005', ['x']), // lacks a label: last
      req('200-0000000001', ['a']),
      req('100-0000000009', ['a'], { relative_priority: 10 }),
      req('100-0000000010', ['a'], { relative_priority: 2 }),
      req('100-0000000003', ['a'], { relative_priority: 2 }),
      req('900-0000000000', ['a']),
    ];
    expect(rs.sort(requestComparator(own.labels)).map((r) => r.id)).toEqual([
      '100-0000000003', '100-0000000010', '100-0000000009', '200-0000000001', '900-0000000000', '100-0000000005',
    ]);
  });
});

describe('assignDecision', () => {
  it('considers a plain request it can serve', () => {
    expect(assignDecision(req('100-0000000001', ['a', 'b']), own, [us])).toEqual({ action: 'consider' });
  });

  it('skips non-requested and already-declined requests', () => {
    const pending = req('100-0000000001', ['a']);
    pending.state = 'pending';
    expect(assignDecision(pending, own, [us]).action).toBe('skip');
    expect(assignDecision(req('100-0000000001', ['a'], { declined_by: ['us'] }), own, [us]).action).toBe('skip');
  });

  it('yields to the preferred provider only while one of its pools is a candidate', () => {
    const other = pool('them', 'p-them', ['a']);
    expect(assignDecision(req('1', ['a'], { provider: 'p-them' }), own, [us, other]).action).toBe('skip');
    expect(assignDecision(req('1', ['a'], { provider: 'p-them', declined_by: ['them'] }), own, [us, other]).action).toBe('consider');
    expect(assignDecision(req('1', ['a'], { provider: 'p-unknown' }), own, [us, other]).action).toBe('consider');
  });

  it('yields to an online pool with a strictly lower priority number, not a paused or equal one', () => {
    expect(assignDecision(req('1', ['a']), own, [us, pool('better', 'p2', ['a'], 50)]).action).toBe('skip');
    expect(assignDecision(req('1', ['a']), own, [us, pool('paused', 'p2', ['a'], 50, true)]).action).toBe('consider');
    expect(assignDecision(req('1', ['a']), own, [us, pool('same', 'p2', ['a'], 100)]).action).toBe('consider');
  });

  it('leaves a request it lacks labels for to a pool that has them, else declines', () => {
    expect(assignDecision(req('1', ['a', 'z']), own, [us, pool('z', 'p2', ['a', 'z'])]).action).toBe('skip');
    expect(assignDecision(req('1', ['z']), own, [us, pool('z', 'p2', ['a'])])).toEqual({ action: 'decline', reason: 'no pool supports label(s) z' });
  });
});

describe('applyDecline', () => {
  it('adds our id once and fails only when every registered pool declined', () => {
    const r = req('1', ['a'], { declined_by: [] });
    applyDecline(r, 'us', [us, pool('them', 'p2', ['a'])]);
    expect(r.declined_by).toEqual(['us']);
    expect(r.state).toBe('requested');
    applyDecline(r, 'us', [us, pool('them', 'p2', ['a'])]);
    expect(r.declined_by).toEqual(['us']);
    r.declined_by.push('them');
    applyDecline(r, 'us', [us, pool('them', 'p2', ['a'])]);
    expect(r.state).toBe('failed');
  });

  it('fails at once when no pool is registered', () => {
    expect(applyDecline(req('1', ['a']), 'us', []).state).toBe('failed');
  });
});

describe('newPoolLauncherId', () => {
  it('has Nodepool\'s shape and is new each time', () => {
    const id = newPoolLauncherId('host.example.org', 'static-a', 'main');
    expect(id).toMatch(/^host\.example\.org-PoolWorker\.static-a-main-[0-9a-f]{32}$/);
    expect(newPoolLauncherId('h', 'p', 'q')).not.toEqual(newPoolLauncherId('h', 'p', 'q'));
  });
});
