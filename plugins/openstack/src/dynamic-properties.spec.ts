import type { Logger, NodeRequest } from '@nodepool-ts/sdk';
import { formatDynamicProperties, pythonStr } from './dynamic-properties';

const warnings: Record<string, unknown>[] = [];
const log = { warn: (_m: string, f?: Record<string, unknown>) => warnings.push(f ?? {}), debug() {}, info() {}, error() {}, child: () => log } as unknown as Logger;

describe('dynamic instance properties', () => {
  it("prints values the way Python's str() does", () => {
    expect(pythonStr(['a', "b'c"])).toBe("['a', 'b\\'c']");
    expect(pythonStr({ project: 'x', n: 1, ok: true, none: null })).toBe("{'project': 'x', 'n': 1, 'ok': True, 'none': None}");
    expect(pythonStr(null)).toBe('None');
    expect(pythonStr(2.5)).toBe('2.5');
  });

  it('formats request fields; unknown fields and a missing request skip the key', () => {
    const request = { id: '100-0000000007', node_types: ['small', 'big'], requestor: 'zuul', requestor_data: { job: 'j' }, relative_priority: 0, event_id: null, created_time: 12.5, tenant_name: 't' } as unknown as NodeRequest;
    warnings.length = 0;
    expect(formatDynamicProperties({ a: '{request.id}/{request.labels}', b: '{request.event_id}', c: 'x{request.nope}', d: '{request.requestor_data}' }, request, log)).toEqual({
      a: "100-0000000007/['small', 'big']", b: 'None', d: "{'job': 'j'}",
    });
    expect(warnings).toEqual([{ key: 'c', field: 'request.nope' }]);
    expect(formatDynamicProperties({ a: '{request.id}', plain: 'no fields' }, undefined, log)).toEqual({ plain: 'no fields' });
  });
});
