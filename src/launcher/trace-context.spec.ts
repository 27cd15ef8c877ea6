import { trace } from '@opentelemetry/api';
import { derivedSpanContext, requestParentContext, zuulSpanContext } from './trace-context';
import { NodeRequest } from '../zk/models/node-request';

function request(requestorData: string, eventId: string | null = null): NodeRequest {
  const body = `{"state": "requested", "requestor_data": ${requestorData}, "event_id": ${JSON.stringify(eventId)}}`;
  return NodeRequest.parse('200-0000000007', Buffer.from(body));
}

describe('request trace context', () => {
  it('reads Zuul\'s span_info integers exactly', () => {
    // Zuul's getSpanInfo form: the span's own ids at the top, its parent's nested (ignored).
    const ctx = zuulSpanContext(request('{"span_info": {"name": "BuildSet", "parent": {"trace_id": 1, "span_id": 2, "is_remote": false}, "links": [{"context": {"trace_id": 3, "span_id": 4}}], "trace_id": 14472981855867416769943261968089493916, "span_id": 13235353014750950193, "trace_flags": 1, "start_time": 1700000000000000000}}'));
    expect(ctx).toEqual({ traceId: '0ae3651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
  });

  it('ignores a missing, null or unusable span_info and derives the trace from event_id', () => {
    expect(zuulSpanContext(request('null'))).toBeNull();
    expect(zuulSpanContext(request('{"span_info": null}'))).toBeNull();
    expect(zuulSpanContext(request('{"span_info": {"trace_id": 0, "span_id": 1}}'))).toBeNull();
    expect(zuulSpanContext(request('{"span_info": {"trace_id": "abc"}}'))).toBeNull();
    const eventId = '5f1b2c3d4e5f60718293a4b5c6d7e8f9';
    const r = request('{"span_info": null}', eventId);
    expect(trace.getSpanContext(requestParentContext(r))?.traceId).toBe(eventId);
    // Stable for the same request in any launcher; a non-hex event id falls back to the request id.
    expect(derivedSpanContext(r)).toEqual(derivedSpanContext(request('null', eventId)));
    expect(derivedSpanContext(request('null', 'not-hex')).traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
