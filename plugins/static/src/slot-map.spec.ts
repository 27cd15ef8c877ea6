import { Node, type PoolConfig } from '@nodepool-ts/sdk';
import { buildSlotMap } from './slot-map';
import type { StaticHost } from './static-host';
import type { StaticNodeConfig } from './static-provider-schema';

const pool: PoolConfig = { name: 'main', maxServers: Infinity, priority: 100, nodeAttributes: null, labels: ['small'], raw: {} };

function host(name: string, mpj: number): StaticHost {
  const node: StaticNodeConfig = {
    name, labels: ['small'], username: 'zuul', timeout: 5, 'host-key-checking': false, 'host-key': [],
    'connection-type': 'ssh', 'connection-port': 22, 'shell-type': null, 'python-path': 'auto', 'max-parallel-jobs': mpj,
  };
  return { pool, node };
}

let seq = 0;
function record(hostname: string, slot: number | null, state: Node['state'] = 'ready', provider = 'p'): Node {
  const n = Object.assign(new Node(String(++seq).padStart(10, '0')), { hostname, slot, provider, username: 'zuul', connection_port: 22 });
  n.state = state;
  return n;
}

const view = (entries: Array<Node | null> | undefined): Array<string | null> | undefined => entries?.map((n) => (n ? `${n.slot}` : null));

describe('buildSlotMap (spec drivers-config §2.4)', () => {
  it('gives every configured host max-parallel-jobs free slots and fills them by slot', () => {
    const map = buildSlotMap([host('a', 3), host('b', 1)], [record('a', 2), record('a', 0)], 'p');
    expect(view(map.get(JSON.stringify(['a', 'zuul', 22])))).toEqual(['0', null, '2']);
    expect(view(map.get(JSON.stringify(['b', 'zuul', 22])))).toEqual([null]);
  });

  it('ignores building and deleting records and records of other providers', () => {
    const map = buildSlotMap([host('a', 2)], [record('a', 0, 'building'), record('a', 1, 'deleting'), record('a', 0, 'ready', 'other')], 'p');
    expect(view(map.get(JSON.stringify(['a', 'zuul', 22])))).toEqual([null, null]);
  });

  it('puts slotless, duplicate and out-of-range records in the first free slot, then past the end', () => {
    const map = buildSlotMap([host('a', 2)], [record('a', 0), record('a', 0), record('a', null), record('a', 5)], 'p');
    expect(view(map.get(JSON.stringify(['a', 'zuul', 22])))).toEqual(['0', '0', 'null', '5']);
  });

  it('keeps a valid slot even when an unslotted record was seen first', () => {
    const map = buildSlotMap([host('a', 2)], [record('a', null), record('a', 0)], 'p');
    expect(view(map.get(JSON.stringify(['a', 'zuul', 22])))).toEqual(['0', 'null']);
  });

  it('lists records of hosts no longer configured as excess only', () => {
    const map = buildSlotMap([host('a', 1)], [record('gone', 0), record('gone', 1)], 'p');
    expect(view(map.get(JSON.stringify(['gone', 'zuul', 22])))).toEqual(['0', '1']);
  });
});
