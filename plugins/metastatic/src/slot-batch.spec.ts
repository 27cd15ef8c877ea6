import { Node, type InstantReservation, type PoolConfig } from '@nodepool-ts/sdk';
import { BackingRecord } from './backing-record';
import type { BackingLookup, SlotOccupant } from './backing-record-repository';
import { SlotBatch, type SlotBatchHost } from './slot-batch';

const POOL = { name: 'main', nodeAttributes: null, labels: ['user-label'] } as unknown as PoolConfig;
const HELD = { path: '/nodepool/metastatic/meta/allocation-lock/x__lock__0000000001', version: -1 };

function backing(id: string, version: number): Node {
  const node = new Node();
  node.id = id;
  node.version = version;
  node.state = 'in-use';
  return node;
}

function setup(slots: number, occupants: Record<string, SlotOccupant[]>, lookups: Record<string, BackingLookup>): { batch: SlotBatch; host: SlotBatchHost; records: BackingRecord[]; verified: string[] } {
  const records = Object.keys(lookups).map((id) => {
    const r = new BackingRecord('user-label', slots, 0);
    r.backingNodeId = id;
    return r;
  });
  const verified: string[] = [];
  const host: SlotBatchHost = {
    records,
    expired: () => false,
    prune: (record) => records.splice(records.indexOf(record), 1),
    verify: async (id) => {
      verified.push(id);
      return lookups[id];
    },
    nodePath: (id) => `/nodepool/nodes/${id}`,
    allocated: () => undefined,
    lockFailed: () => undefined,
    shortOf: async () => undefined,
    log: { info: () => undefined } as unknown as SlotBatchHost['log'],
  };
  const batch = new SlotBatch(host, POOL, new Map(Object.entries(occupants)), (l) => l === 'user-label', HELD, async () => undefined);
  return { batch, host, records, verified };
}

const present = (id: string, version: number): BackingLookup => ({ missing: false, node: backing(id, version), contender: `/nodepool/nodes/${id}/lock/c__lock__0000000000`, data: undefined });

describe('SlotBatch', () => {
  it('hands out each free slot once, verifying a backing node once, and checks lock, backing node and contender', async () => {
    const { batch, verified } = setup(2, { B1: [{ nodeId: 'n1', slot: 0 }] }, { B1: present('B1', 7), B2: present('B2', 3) });
    const first = (await batch.reserve('user-label')) as InstantReservation;
    expect(first.checks).toEqual([HELD, { path: '/nodepool/nodes/B1', version: 7 }, { path: '/nodepool/nodes/B1/lock/c__lock__0000000000', version: -1 }]);
    const second = (await batch.reserve('user-label')) as InstantReservation;
    const third = (await batch.reserve('user-label')) as InstantReservation;
    expect(await batch.reserve('user-label')).toBeUndefined();
    expect([first, second, third].map((r) => r.checks[1].path)).toEqual(['/nodepool/nodes/B1', '/nodepool/nodes/B2', '/nodepool/nodes/B2']);
    expect(verified).toEqual(['B1', 'B2']);
    expect(await batch.reserve('other-label')).toBeUndefined();
  });

  it('a failed check: the slot is free again and the backing node verified anew, pruned when gone (the seed bug)', async () => {
    const lookups: Record<string, BackingLookup> = { B1: present('B1', 1) };
    const { batch, records, verified } = setup(1, {}, lookups);
    const r = (await batch.reserve('user-label')) as InstantReservation;
    r.release('/nodepool/nodes/B1');
    lookups.B1 = { missing: true, reason: 'gone', detail: 'backing node B1 no longer exists' };
    expect(await batch.reserve('user-label')).toBeUndefined();
    expect(verified).toEqual(['B1', 'B1']);
    expect(records).toEqual([]);
  });

  it('a slot given back without a failed check is offered again without a read', async () => {
    const { batch, verified } = setup(1, {}, { B1: present('B1', 1) });
    ((await batch.reserve('user-label')) as InstantReservation).release();
    expect(await batch.reserve('user-label')).toBeDefined();
    expect(verified).toEqual(['B1']);
  });

  it("a slot about to be free (its node being deleted): one request is told 'later' per such slot, the next launches", async () => {
    const { batch } = setup(1, { B1: [{ nodeId: 'n1', slot: 0, leaving: true }], B2: [{ nodeId: 'n2', slot: 0 }] }, { B1: present('B1', 1), B2: present('B2', 1) });
    expect(await batch.reserve('user-label')).toBe('later');
    expect(await batch.reserve('user-label')).toBeUndefined();
  });

  it('a request with no slot, free or about to be, is reported as a shortage (counted per label) before it launches', async () => {
    const { batch, host } = setup(1, { B1: [{ nodeId: 'n1', slot: 0, leaving: true }] }, { B1: present('B1', 1) });
    const short = jest.spyOn(host, 'shortOf');
    expect(await batch.reserve('user-label')).toBe('later');
    expect(await batch.reserve('user-label')).toBeUndefined();
    expect(await batch.reserve('user-label')).toBeUndefined();
    expect(await batch.reserve('other-label')).toBeUndefined();
    expect(short.mock.calls).toEqual([['user-label', 1], ['user-label', 2]]);
  });
});
