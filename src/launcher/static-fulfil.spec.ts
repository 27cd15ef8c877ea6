import type { Provider } from '../plugins/driver';
import type { PoolConfig } from '../plugins/nodepool-config';
import { Node } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';
import { hasFreeNodesFor, isFreeNode } from './static-fulfil';

function node(id: string, labels: string[], extra: Partial<Pick<Node, 'state' | 'allocated_to' | 'provider' | 'pool'>> = {}): Node {
  const n = new Node(id);
  n.state = 'ready';
  n.type = labels;
  n.provider = 'rack';
  n.pool = 'main';
  Object.assign(n, extra);
  return n;
}

function req(labels: string[]): NodeRequest {
  const r = new NodeRequest('100-0000000001');
  r.node_types = labels;
  return r;
}

const provider = { name: 'rack' } as Provider;
const pool = { name: 'main' } as PoolConfig;

describe('isFreeNode', () => {
  it('accepts only ready, unallocated, unlocked nodes of this provider and pool', () => {
    const ctx = { provider, pool, locked: new Set(['5']) };
    expect(isFreeNode(node('1', ['a']), ctx)).toBe(true);
    expect(isFreeNode(node('2', ['a'], { state: 'in-use' }), ctx)).toBe(false);
    expect(isFreeNode(node('3', ['a'], { allocated_to: '100-0000000000' }), ctx)).toBe(false);
    expect(isFreeNode(node('4', ['a'], { provider: 'other' }), ctx)).toBe(false);
    expect(isFreeNode(node('6', ['a'], { pool: 'other' }), ctx)).toBe(false);
    expect(isFreeNode(node('5', ['a']), ctx)).toBe(false);
  });
});

describe('hasFreeNodesFor', () => {
  it('counts labels as a multiset, one node per requested label', () => {
    const nodes = [node('1', ['a', 'b']), node('2', ['a'])];
    const ctx = { provider, pool, locked: new Set<string>(), nodes };
    expect(hasFreeNodesFor(req(['a', 'a']), ctx)).toBe(true);
    expect(hasFreeNodesFor(req(['b', 'a']), ctx)).toBe(true);
    expect(hasFreeNodesFor(req(['a', 'a', 'a']), ctx)).toBe(false);
    expect(hasFreeNodesFor(req(['b', 'b']), ctx)).toBe(false);
    expect(hasFreeNodesFor(req(['c']), ctx)).toBe(false);
  });

  it('sees allocations made earlier in the same pass', () => {
    const nodes = [node('1', ['a'])];
    const ctx = { provider, pool, locked: new Set<string>(), nodes };
    expect(hasFreeNodesFor(req(['a']), ctx)).toBe(true);
    nodes[0].allocated_to = '100-0000000001';
    expect(hasFreeNodesFor(req(['a']), ctx)).toBe(false);
  });
});
