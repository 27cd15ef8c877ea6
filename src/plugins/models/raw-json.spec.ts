import { rawMemberText } from './raw-json';
import { NodeRequest } from './node-request';

describe('rawMemberText', () => {
  const text = '{"a": "x\\"}", "big": 100985939111033328018442752961257817910, "o": {"k": [1, {"n": null}]}, "last": true}';

  it('returns the exact source text of a top-level member', () => {
    expect(rawMemberText(text, 'big')).toBe('100985939111033328018442752961257817910');
    expect(rawMemberText(text, 'o')).toBe('{"k": [1, {"n": null}]}');
    expect(rawMemberText(text, 'a')).toBe('"x\\"}"');
    expect(rawMemberText(text, 'last')).toBe('true');
    expect(rawMemberText(text, 'k')).toBeUndefined();
    expect(rawMemberText('[1]', 'a')).toBeUndefined();
  });

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    expect(rawMemberText('{"a":1,"a":2}', 'a')).toBe('2');
  });
});

describe('NodeRequest requestor_data', () => {
  const body = '{"state": "requested", "state_time": 1.5, "node_types": ["small"], "requestor_data": {"span_info": {"trace_id": 100985939111033328018442752961257817910, "span_id": 17323001458760792003}}, "event_id": null}';

  it('is written back exactly while unchanged, and as replaced otherwise', () => {
    const req = NodeRequest.parse('100-0000000001', Buffer.from(body));
    req.state = 'pending';
    const out = req.serialize().toString();
    expect(out).toContain('"requestor_data":{"span_info": {"trace_id": 100985939111033328018442752961257817910, "span_id": 17323001458760792003}}');
    expect(JSON.parse(out)).toMatchObject({ state: 'pending', node_types: ['small'] });
    req.requestor_data = { other: 1 };
    expect(JSON.parse(req.serialize().toString()).requestor_data).toEqual({ other: 1 });
  });
});
