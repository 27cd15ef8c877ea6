import type { PoolComponentRecord } from '../zk/models/component';
import { Node } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';
import type { OwnPool } from './assign-decision';
import { preferredPool, ReadyCapacity, rendezvousWeight, takeTurn } from './rendezvous';

const pool = (id: string, extra: Partial<PoolComponentRecord> = {}): PoolComponentRecord => ({
  hostname: id, kind: 'pool', state: 'running', version: '0.1.0 nodepool-ts', model_api: 0,
  id, name: 'main', provider_name: 'p', supported_labels: ['small'], priority: 100, paused: false, ...extra,
});
const own: OwnPool = { id: 'a-p-main', provider: 'p', priority: 100, labels: new Set(['small']) };
const request = (id: string, extra: Partial<NodeRequest> = {}): NodeRequest => Object.assign(new NodeRequest(), { id, node_types: ['small'], state: 'requested', ...extra });

/** A request id the rendezvous hash gives to `winner` among `ids`. */
function requestFor(winner: string, ids: string[]): string {
  for (let i = 0; ; i++) if (preferredPool(`200-${i}`, ids.map((id) => ({ id })))?.id === winner) return `200-${i}`;
}

describe('rendezvousWeight', () => {
  it('is stable (every launcher must compute the same) and spreads requests evenly', () => {
    expect(rendezvousWeight('host-p-main', '200-0000000001')).toBe(rendezvousWeight('host-p-main', '200-0000000001'));
    expect(rendezvousWeight('host-p-main', '200-0000000001')).toBe(412600769);
    const ids = ['a-p-main', 'b-p-main', 'c-p-main', 'd-p-main'].map((id) => ({ id }));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const p = preferredPool(`200-${String(i).padStart(10, '0')}`, ids)!.id;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (const { id } of ids) expect(counts.get(id)).toBeGreaterThan(850);
  });
});

describe('takeTurn', () => {
  const other = pool('b-p-main');
  const opts = { waitedMs: 0, delayMs: 1000 };

  it('the preferred pool takes at once; another waits the bounded delay, then takes', () => {
    const mine = request(requestFor(own.id, [own.id, other.id]));
    const theirs = request(requestFor(other.id, [own.id, other.id]));
    expect(takeTurn(mine, own, [pool(own.id), other], opts)).toEqual({ take: true, why: 'preferred' });
    expect(takeTurn(theirs, own, [pool(own.id), other], { ...opts, waitedMs: 400 })).toEqual({ take: false, preferred: other.id, waitMs: 600 });
    expect(takeTurn(theirs, own, [pool(own.id), other], { ...opts, waitedMs: 1000 })).toEqual({ take: true, why: 'waited' });
  });

  it('only live, unpaused pools that could take it count; a foreign pool that could means a race', () => {
    const theirs = request(requestFor(other.id, [own.id, other.id]));
    expect(takeTurn(theirs, own, [], opts).take).toBe(true); // its launcher is gone
    expect(takeTurn(theirs, own, [pool(other.id, { paused: true })], opts).take).toBe(true);
    expect(takeTurn(theirs, own, [pool(other.id, { supported_labels: ['big'] })], opts).take).toBe(true);
    expect(takeTurn(request(theirs.id as string, { declined_by: [other.id] }), own, [other], opts).take).toBe(true);
    expect(takeTurn(request(theirs.id as string, { provider: 'p' }), own, [pool(other.id, { provider_name: 'q' })], opts).take).toBe(true);
    expect(takeTurn(theirs, own, [other, pool('py-q-main', { version: '9.0.0' })], opts)).toEqual({ take: true, why: 'foreign-race' });
    expect(takeTurn(theirs, own, [other], { ...opts, delayMs: 0 }).take).toBe(true);
    expect(takeTurn(theirs, own, [other], { ...opts, preferredCanServe: () => false })).toEqual({ take: true, why: 'preferred-cannot-serve' });
  });
});

describe('ReadyCapacity', () => {
  it('counts free ready nodes per pool and label, and what was promised', () => {
    const node = (state: Node['state'], allocated: string | null): Node => Object.assign(new Node(), { state, allocated_to: allocated, provider: 'p', pool: 'main', type: ['small'] });
    const cap = new ReadyCapacity([node('ready', null), node('ready', null), node('ready', '200-1'), node('in-use', null)]);
    expect(cap.claim(pool('x'), ['small', 'small', 'small'])).toBe(false);
    expect(cap.claim(pool('x'), ['small'])).toBe(true);
    expect(cap.claim(pool('x', { provider_name: 'q' }), ['small'])).toBe(false);
    expect(cap.claim(pool('x'), ['small'])).toBe(true);
    expect(cap.claim(pool('x'), ['small'])).toBe(false);
  });
});
