import fs from 'node:fs';
import path from 'node:path';
import { SAMPLES_DIR, loadSample } from '../../test/support/spec-samples';
import { NODE_LIST_DETAIL_COLUMNS, nodeRow, pythonJsonDumps, statusTable, type StatusRow } from '../status/index';
import { Node } from '../zk/models/node';
import { NodeListRenderer, type NodeWithLock } from './node-list-renderer';

const NOW = 1_800_000_000;
const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');

/** The node a web sample row was rendered from (age "DD:HH:MM:SS" back to a state_time). */
function nodeFromRow(row: StatusRow): NodeWithLock {
  const node = Node.fromDict(row.id as string, {
    state: row.state, provider: row.provider, type: row.label, external_id: row.server_id, public_ipv4: row.public_ipv4,
    public_ipv6: row.ipv6, pool: row.pool, hostname: row.hostname, private_ipv4: row.private_ipv4, az: row.AZ,
    username: row.username, connection_port: row.connection_port, launcher: row.launcher, allocated_to: row.allocated_to,
    hold_job: row.hold_job, comment: row.comment, user_data: row.user_data, driver_data: row.driver_data,
  });
  const [d, h, m, s] = (row.age as string).split(':').map(Number);
  node.state_time = NOW - (((d * 24 + h) * 60 + m) * 60 + s) - 0.5;
  return { value: node, locked: row.locked === 'locked' };
}

function generic(nodes: readonly NodeWithLock[], fields?: string[], now = NOW): { text: string; json: string } {
  const rows = nodes.map((n) => nodeRow(n.value, n.locked, now));
  return { text: statusTable(NODE_LIST_DETAIL_COLUMNS, rows, fields), json: pythonJsonDumps(rows) };
}

describe('NodeListRenderer', () => {
  it('renders the captured web samples byte for byte', () => {
    for (const name of ['web-node-list', 'meta-web-node-list']) {
      const nodes = loadSample<StatusRow[]>(`cli-web/${name}.json`).map(nodeFromRow);
      const r = new NodeListRenderer();
      expect(r.json(nodes, NOW)).toBe(sample(`${name}.json`));
      if (name === 'web-node-list') expect(r.text(nodes, NOW)).toBe(sample('web-node-list.txt'));
      expect(r.text(nodes, NOW)).toBe(generic(nodes).text);
    }
  });

  it('matches the generic rendering across changes, widths, fields and multi-line cells', () => {
    const r = new NodeListRenderer();
    const mk = (id: string, fields: Partial<Node>, locked = false): NodeWithLock => {
      const n = new Node(id);
      Object.assign(n, { provider: 'p', type: ['a'], state_time: NOW - 100, ...fields });
      return { value: n, locked };
    };
    let nodes = [mk('0000000001', { hostname: 'h' }), mk('0000000002', { user_data: { a: [1, 'x'] } }, true)];
    for (let round = 0; round < 2; round++) {
      expect(r.text(nodes, NOW)).toBe(generic(nodes).text);
      expect(r.json(nodes, NOW)).toBe(generic(nodes).json);
    }
    // A changed record is a new object; a longer cell widens the column for every line.
    nodes = [nodes[0], mk('0000000002', { hostname: 'a-much-longer-hostname', state: 'hold' } as Partial<Node>)];
    expect(r.text(nodes, NOW + 90000)).toBe(generic(nodes, undefined, NOW + 90000).text);
    expect(r.text(nodes, NOW, ['id', 'locked', 'hostname'])).toBe(generic(nodes, ['id', 'locked', 'hostname']).text);
    expect(r.text([nodes[0]], NOW)).toBe(generic([nodes[0]]).text);
    nodes.push(mk('0000000003', { comment: 'two\nlines' }));
    expect(r.text(nodes, NOW)).toBe(generic(nodes).text);
    expect(r.json([], NOW)).toBe('[]');
  });
});

describe('NodeListRenderer with a huge field (hostile input)', () => {
  it('caps text cells so one record cannot make every line megabytes wide; JSON keeps the value', () => {
    const nodes: NodeWithLock[] = [];
    for (let i = 0; i < 50; i++) {
      const node = Node.fromDict(String(i).padStart(10, '0'), { state: 'ready', provider: 'p', type: 'small', state_time: NOW - 5 });
      if (i === 7) node.comment = 'x'.repeat(600_000);
      nodes.push({ value: node, locked: false });
    }
    const r = new NodeListRenderer();
    const text = r.text(nodes, NOW);
    const longest = Math.max(...text.split('\n').map((l) => l.length));
    expect(longest).toBeLessThan(4_000);
    expect(text).toContain('… [598976 more characters]');
    expect(r.json(nodes, NOW)).toContain('x'.repeat(600_000));
  });
});
