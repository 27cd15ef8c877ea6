import { loadSample } from '../../../test/support/spec-samples';
import { MAX_JSON_DEPTH, ModelError } from './model-error';
import { Node, NODE_STATES } from './node';

interface Sample {
  path: string;
  body: Record<string, unknown>;
}
const interop = loadSample<{ node_fulfilled: Sample; node_in_use_as_zuul_writes_it: Record<string, unknown> }>('zk-static-interop.json');
const metastatic = loadSample<Record<string, { backing_node: Sample }>>('zk-metastatic.json');

/** The keys of spec §2.1, written out independently of the model. */
const SPEC_NODE_KEYS = [
  'state', 'state_time', 'type', 'provider', 'pool', 'cloud', 'region', 'az', 'allocated_to', 'public_ipv4',
  'private_ipv4', 'public_ipv6', 'interface_ip', 'host_id', 'connection_port', 'ssh_port', 'connection_type',
  'username', 'python_path', 'shell_type', 'image_id', 'launcher', 'created_time', 'external_id', 'hostname',
  'comment', 'user_data', 'hold_job', 'hold_expiration', 'host_keys', 'resources', 'slot', 'attributes',
  'tenant_name', 'driver_data', 'requestor',
];

function parse(body: unknown, id = '0000000042'): Node {
  return Node.parse(id, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
}

function written(node: Node): Record<string, unknown> {
  return JSON.parse(node.serialize().toString('utf8')) as Record<string, unknown>;
}

describe('Node model', () => {
  test('a new node is written with exactly the keys of spec §2.1, as Python writes them', () => {
    const body = written(new Node());
    expect(Object.keys(body).sort()).toEqual([...SPEC_NODE_KEYS].sort());
    expect(Object.keys(interop.node_fulfilled.body).sort()).toEqual([...SPEC_NODE_KEYS].sort());
    expect(body).toMatchObject({ state: 'init', type: [], host_keys: [], username: 'zuul', connection_port: 22, ssh_port: 22 });
  });

  test.each([
    ['static node as Nodepool writes it', interop.node_fulfilled.body],
    ['node as Zuul writes it', interop.node_in_use_as_zuul_writes_it],
    ['metastatic backing node (user_data is a JSON string)', metastatic['/peer-nodepool-meta'].backing_node.body],
  ])('%s round-trips unchanged', (_name, body) => {
    const node = parse(body);
    expect(written(node)).toEqual(body);
  });

  test('the sample node reads with its values', () => {
    const node = Node.parse('0000000023', Buffer.from(JSON.stringify(interop.node_fulfilled.body)), 7);
    expect(node.id).toBe('0000000023');
    expect(node.version).toBe(7);
    expect(node.state).toBe('ready');
    expect(node.type).toEqual(['small']);
    expect(node.allocated_to).toBe('200-0000000024');
    expect(node.slot).toBe(0);
    expect(node.state_time).toBe(1795676474.56671);
  });

  test('unknown keys (e.g. Zuul\'s "id") are dropped on write', () => {
    const node = parse({ ...interop.node_fulfilled.body, id: '0000000023', future_key: { a: 1 } });
    const body = written(node);
    expect(body).not.toHaveProperty('id');
    expect(body).not.toHaveProperty('future_key');
    expect(Object.keys(body).sort()).toEqual([...SPEC_NODE_KEYS].sort());
  });

  test('missing keys take Nodepool\'s read defaults', () => {
    const node = parse({ state: 'building', ssh_port: 2222 });
    expect(node.username).toBe('zuul');
    expect(node.connection_port).toBe(2222); // connection_port -> ssh_port -> 22
    expect(parse({ state: 'building' }).connection_port).toBe(22);
    expect(node.host_keys).toEqual([]);
    expect(node.type).toEqual([]);
    expect(node.hold_expiration).toBeNull();
    expect(written(node).ssh_port).toBe(2222);
  });

  test('a bare string type is wrapped in a list', () => {
    expect(parse({ state: 'ready', type: 'small' }).type).toEqual(['small']);
    expect(written(parse({ state: 'ready', type: 'small' })).type).toEqual(['small']);
  });

  test.each([
    [3600, 3600],
    ['3600', 3600],
    [' 42 ', 42],
    [12.9, 12],
    ['1.5', 0],
    ['abc', 0],
    [{}, 0],
    [null, null],
  ])('hold_expiration %j reads as %j (Python int() coercion)', (value, expected) => {
    expect(parse({ state: 'hold', hold_expiration: value }).hold_expiration).toBe(expected);
  });

  test('bad JSON, a non-object body, an empty body and an unknown state raise ModelError naming the path', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"state": "ready", ', /invalid JSON/],
      ['[1, 2]', /not a JSON object/],
      ['', /empty body/],
      [JSON.stringify({ state: 'exploded' }), /unknown node state "exploded"/],
      [JSON.stringify({ provider: 'p' }), /unknown node state undefined/],
    ];
    for (const [body, reason] of cases) {
      let error: unknown;
      try {
        parse(body, '0000000099');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).path).toBe('/nodepool/nodes/0000000099');
      expect((error as Error).message).toContain('/nodepool/nodes/0000000099');
      expect((error as Error).message).toMatch(reason);
    }
  });

  test('NaN and Infinity tokens from Python json.dumps are tolerated', () => {
    const node = parse('{"state": "ready", "state_time": NaN, "slot": Infinity, "created_time": -Infinity, "provider": "p"}');
    expect(node.state).toBe('ready');
    expect(node.provider).toBe('p');
    expect(node.slot).toBeNull();
    expect(node.created_time).toBeNull();
    expect(Number.isFinite(node.state_time)).toBe(true);
  });

  test('setting state stamps state_time and only known states are accepted', () => {
    const node = parse({ state: 'ready', state_time: 1 });
    node.state = 'in-use';
    expect(node.state_time).toBeGreaterThan(1);
    expect(() => (node.state = 'bogus' as never)).toThrow(TypeError);
    expect(NODE_STATES).toHaveLength(11);
  });

  it('refuses bodies nested deeper than MAX_JSON_DEPTH (they would overflow the renderers) but not brackets inside strings', () => {
    const deep = `{"state": "ready", "user_data": ${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    expect(() => Node.parse('0000000001', Buffer.from(deep))).toThrow(/\/nodepool\/nodes\/0000000001: JSON nested deeper than 500 levels/);
    const shallow = `{"state": "ready", "comment": "${'['.repeat(2000)}\\\" {{"}`;
    expect(Node.parse('0000000001', Buffer.from(shallow)).comment).toBe(`${'['.repeat(2000)}" {{`);
  });

  it('keeps our launch record (nodepool_ts_launch) across a round trip and writes it only while set', () => {
    const record = { machine_state: 'server creating', external_id: 'srv-1', attempt: 2, since: 1700000000 };
    const node = parse({ state: 'building', external_id: 'srv-1', nodepool_ts_launch: record });
    expect(node.nodepool_ts_launch).toEqual(record);
    expect(JSON.parse(node.serialize().toString()).nodepool_ts_launch).toEqual(record);
    node.nodepool_ts_launch = null;
    expect(Object.keys(JSON.parse(node.serialize().toString()))).not.toContain('nodepool_ts_launch');
    // A record without an external id cannot be resumed: read as none.
    expect(parse({ state: 'building', nodepool_ts_launch: { machine_state: 'start', external_id: null } }).nodepool_ts_launch).toBeNull();
  });
});
