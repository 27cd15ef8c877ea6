import { loadSample } from '../../../test/support/spec-samples';
import { ModelError } from './model-error';
import { NodeRequest } from './node-request';

interface Sample {
  path: string;
  body: Record<string, unknown>;
}
const interop = loadSample<Record<'request_as_submitted' | 'request_fulfilled' | 'request_failed', Sample>>('zk-static-interop.json');

/** The 13 keys of spec §2.2, written out independently of the model. */
const SPEC_REQUEST_KEYS = [
  'state', 'state_time', 'declined_by', 'node_types', 'nodes', 'reuse', 'requestor', 'requestor_data',
  'provider', 'relative_priority', 'event_id', 'created_time', 'tenant_name',
];

function idOf(sample: Sample): string {
  return sample.path.split('/').pop() as string;
}

function written(request: NodeRequest): Record<string, unknown> {
  return JSON.parse(request.serialize().toString('utf8')) as Record<string, unknown>;
}

describe('NodeRequest model', () => {
  test('a new request is written with exactly the 13 keys, null where unknown', () => {
    const body = written(new NodeRequest());
    expect(Object.keys(body).sort()).toEqual([...SPEC_REQUEST_KEYS].sort());
    expect(body).toMatchObject({
      state: 'requested', declined_by: [], node_types: [], nodes: [], reuse: true, requestor: null,
      requestor_data: null, provider: null, relative_priority: 0, event_id: null, created_time: null, tenant_name: null,
    });
    expect(Object.keys(interop.request_as_submitted.body).sort()).toEqual([...SPEC_REQUEST_KEYS].sort());
  });

  test.each(['request_as_submitted', 'request_fulfilled', 'request_failed'] as const)('sample %s round-trips unchanged', (name) => {
    const sample = interop[name];
    const request = NodeRequest.parse(idOf(sample), Buffer.from(JSON.stringify(sample.body)), 3);
    expect(request.id).toBe(idOf(sample));
    expect(request.version).toBe(3);
    expect(written(request)).toEqual(sample.body);
  });

  test('Zuul\'s requestor_data is kept verbatim and id parts are split like Nodepool', () => {
    const sample = interop.request_as_submitted;
    const request = NodeRequest.parse(idOf(sample), Buffer.from(JSON.stringify(sample.body)));
    expect(request.requestor_data).toEqual(sample.body.requestor_data);
    expect(request.priority).toBe('200');
    expect(request.sequence).toBe('0000000024');
  });

  test('unknown keys are dropped on write', () => {
    const body = { ...interop.request_fulfilled.body, zuul_extra: 1, id: 'x' };
    const request = NodeRequest.parse('200-0000000024', Buffer.from(JSON.stringify(body)));
    expect(Object.keys(written(request)).sort()).toEqual([...SPEC_REQUEST_KEYS].sort());
  });

  test('missing keys take the reader defaults', () => {
    const request = NodeRequest.parse('100-0000000001', Buffer.from('{"state": "requested", "node_types": "small"}'));
    expect(request.reuse).toBe(true);
    expect(request.relative_priority).toBe(0);
    expect(request.node_types).toEqual(['small']);
    expect(request.declined_by).toEqual([]);
  });

  test('bad JSON and unknown states raise ModelError naming the path', () => {
    for (const [body, reason] of [
      ['not json', /invalid JSON/],
      [JSON.stringify({ state: 'accepted' }), /unknown request state "accepted"/],
      ['null', /not a JSON object/],
    ] as const) {
      let error: unknown;
      try {
        NodeRequest.parse('100-0000000007', Buffer.from(body));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ModelError);
      expect((error as Error).message).toContain('/nodepool/requests/100-0000000007');
      expect((error as Error).message).toMatch(reason);
    }
  });

  test('NaN tokens are tolerated', () => {
    const request = NodeRequest.parse('100-0000000001', Buffer.from('{"state": "pending", "created_time": NaN, "relative_priority": 2}'));
    expect(request.state).toBe('pending');
    expect(request.created_time).toBeNull();
    expect(request.relative_priority).toBe(2);
  });
});
