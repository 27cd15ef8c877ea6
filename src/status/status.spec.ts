import fs from 'node:fs';
import path from 'node:path';
import { SAMPLES_DIR, loadSample } from '../../test/support/spec-samples';
import { Node } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';
import {
  IMAGE_LIST_COLUMNS, LABEL_LIST_COLUMNS, NODE_LIST_COLUMNS, NODE_LIST_DETAIL_COLUMNS, REQUEST_LIST_COLUMNS,
  cellText, formatAge, labelRows, nodeRow, prettyTable, pythonJsonDumps, pythonRepr, requestRow, statusTable,
  type StatusRow,
} from './index';

const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');

/** Splits a captured PrettyTable back into header and cell strings (single-line cells only). */
function parseTable(text: string): { headers: string[]; rows: string[][] } {
  const lines = text.replace(/\n$/, '').split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string): string[] => l.slice(2, -2).split(' | ').map((c) => c.trimEnd());
  return { headers: cells(lines[0]), rows: lines.slice(1).map(cells) };
}

describe('prettyTable', () => {
  it('reproduces the captured tables byte for byte from their cells', () => {
    for (const name of ['nodepool-list.txt', 'nodepool-list-detail.txt', 'nodepool-request-list-pending.txt', 'web-label-list.txt', 'web-node-list-fields-pretty.txt']) {
      const text = sample(name);
      const { headers, rows } = parseTable(text);
      expect(prettyTable(headers, rows)).toBe(text.replace(/\n$/, ''));
    }
  });

  it('prints only the header for an empty table', () => {
    expect(prettyTable(REQUEST_LIST_COLUMNS.map((c) => c.header), [])).toBe(sample('nodepool-request-list.txt').replace(/\n$/, ''));
    expect(statusTable(IMAGE_LIST_COLUMNS, [])).toBe(sample('web-image-list.txt'));
  });

  it('grows a row for multi-line cells', () => {
    expect(prettyTable(['A', 'B'], [['x\nyy', 'z']])).toBe('+----+---+\n| A  | B |\n+----+---+\n| x  | z |\n| yy |   |\n+----+---+');
  });
});

describe('node list', () => {
  it('renders the web JSON sample to the captured web text table', () => {
    const rows = loadSample<StatusRow[]>('cli-web/web-node-list.json');
    expect(statusTable(NODE_LIST_DETAIL_COLUMNS, rows)).toBe(sample('web-node-list.txt'));
  });

  it('renders metastatic driver_data as Python repr and user_data strings as-is, like the sample', () => {
    const rows = loadSample<StatusRow[]>('cli-web/meta-web-node-list.json');
    const text = statusTable(NODE_LIST_DETAIL_COLUMNS, rows);
    // The CLI capture is from another moment (other ids): round-trip its Python-repr cells.
    const detail = parseTable(sample('meta-list-detail.txt'));
    const reprs = detail.rows.map((r) => r.at(-1) as string).filter((c) => c.startsWith('{'));
    expect(reprs.length).toBeGreaterThan(0);
    for (const repr of reprs) expect(cellText(JSON.parse(repr.replace(/'/g, '"')))).toBe(repr);
    expect(text).toContain(`| ${String((rows[0].user_data as string))} `);
  });

  it('keys, order and values of a row built from a stored node match the web sample shape', () => {
    const doc = loadSample<Record<string, unknown>>('zk-static-interop.json');
    const body = doc.node_fulfilled as Record<string, unknown>;
    const node = Node.fromDict('0000000001', body.body as Record<string, unknown>);
    const row = nodeRow(node, true, node.state_time + 3725);
    const web = loadSample<StatusRow[]>('cli-web/web-node-list.json')[0];
    expect(Object.keys(row)).toEqual(Object.keys(web));
    expect(row).toMatchObject({ id: '0000000001', locked: 'locked', age: '00:01:02:05', label: node.type, server_id: node.external_id });
  });

  it('redacts a non-integer port', () => {
    const node = new Node('0000000002');
    node.connection_port = 'secret';
    expect(nodeRow(node, false).connection_port).toBe('redacted');
    node.connection_port = 2222;
    expect(nodeRow(node, false).connection_port).toBe(2222);
  });

  it('has the list columns of the CLI sample', () => {
    expect(parseTable(sample('nodepool-list.txt')).headers).toEqual(NODE_LIST_COLUMNS.map((c) => c.header));
    expect(parseTable(sample('nodepool-list-detail.txt')).headers).toEqual(NODE_LIST_DETAIL_COLUMNS.map((c) => c.header));
  });

  it('formats ages like Nodepool, days unbounded', () => {
    expect(formatAge(1000, 1000.9)).toBe('00:00:00:00');
    expect(formatAge(0, 3 * 86400 + 4 * 3600 + 5 * 60 + 6.7)).toBe('03:04:05:06');
    expect(formatAge(0, 123 * 86400)).toBe('123:00:00:00');
    expect(formatAge(10, 9.5)).toBe('-1:23:59:59');
  });

  it('filters and orders text columns by ?fields', () => {
    const rows = loadSample<StatusRow[]>('cli-web/web-node-list.json').slice(0, 2);
    const text = statusTable(NODE_LIST_DETAIL_COLUMNS, rows, ['id', 'state', 'locked', 'hostname']);
    expect(parseTable(text).headers).toEqual(parseTable(sample('web-node-list-fields-pretty.txt')).headers);
    expect(parseTable(text).rows[0]).toEqual([rows[0].id, rows[0].state, rows[0].locked, rows[0].hostname]);
    expect(statusTable(NODE_LIST_DETAIL_COLUMNS, rows, ['nonsense'])).toBe(statusTable(NODE_LIST_DETAIL_COLUMNS, rows));
  });
});

describe('request and label lists', () => {
  it('builds the request JSON keys of the sample and its text table', () => {
    const json = loadSample<StatusRow[]>('cli-web/web-request-list-pending.json');
    const requests = json.map((r) => {
      const req = NodeRequest.fromDict(r.id as string, { ...r, state: r.state });
      return requestRow(req);
    });
    expect(requests).toEqual(json);
    expect(statusTable(REQUEST_LIST_COLUMNS, requests)).toBe(sample('web-request-list-pending.txt'));
  });

  it('lists the union of pool labels', () => {
    const rows = labelRows([{ supported_labels: ['static-label', 'b'] }, { supported_labels: ['static-label'] }]);
    expect(rows).toEqual([{ label: 'b' }, { label: 'static-label' }]);
    expect(statusTable(LABEL_LIST_COLUMNS, rows.slice(1))).toBe(sample('web-label-list.txt'));
  });
});

describe('Python text forms', () => {
  it('dumps JSON like json.dumps, byte for byte with the web samples', () => {
    for (const name of ['web-node-list.json', 'meta-web-node-list.json', 'web-request-list-pending.json', 'web-label-list.json', 'web-request-list.json']) {
      const text = sample(name);
      expect(pythonJsonDumps(JSON.parse(text))).toBe(text);
    }
    expect(pythonJsonDumps({ a: 'é✓\u007f😀', b: [1.5, true, null], c: 'tab\there "q" \\' })).toBe('{"a": "\\u00e9\\u2713\\u007f\\ud83d\\ude00", "b": [1.5, true, null], "c": "tab\\there \\"q\\" \\\\"}');
  });

  it('prints Python repr of dicts, strings and numbers', () => {
    expect(pythonRepr({ a: "it's", b: 'x"y', c: [1, 2.5e-7, false, null], d: 1e16 })).toBe(`{'a': "it's", 'b': 'x"y', 'c': [1, 2.5e-07, False, None], 'd': 1e+16}`);
    expect(cellText(['a', 'b'])).toBe('a,b');
    expect(cellText(null)).toBe('');
  });
});
