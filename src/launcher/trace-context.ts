/**
 * Where a request's spans hang in a trace. Zuul stores the span context of the job that asked
 * for nodes in `requestor_data.span_info` (`trace_id` and `span_id` as JSON integers,
 * `trace_flags`); it is read as the remote parent and never altered. Without it the trace id is
 * derived from the request itself (its `event_id`, a uuid4 hex, else its id), so every launcher
 * that touches the request (one declines, another accepts, a third takes over after a restart)
 * puts its spans into the same trace without any key added to the request or node bodies: both
 * bodies are fixed key sets that Python Nodepool rewrites without unknown keys (spec §2.1/§2.2),
 * so a stored span context would not survive anyway.
 */
import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { rawMemberText } from '../zk/models/raw-json';
import type { NodeRequest } from '../zk/models/node-request';

/** A span_info id (decimal JSON integer, or hex string) as `hexDigits` lower-case hex; null when unusable. */
function idHex(raw: string | undefined, hexDigits: number): string | null {
  if (raw === undefined) return null;
  let value: bigint;
  try {
    if (/^\d+$/.test(raw)) value = BigInt(raw);
    else if (/^"(0x)?[0-9a-fA-F]+"$/.test(raw)) value = BigInt(`0x${raw.slice(1, -1).replace(/^0x/, '')}`);
    else return null;
  } catch {
    return null;
  }
  if (value === 0n || value >= 1n << BigInt(hexDigits * 4)) return null;
  return value.toString(16).padStart(hexDigits, '0');
}

/** Zuul's span context from the request's `requestor_data.span_info`, exact to the bit. */
export function zuulSpanContext(request: NodeRequest): SpanContext | null {
  const data = request.requestorDataText();
  const spanInfo = rawMemberText(data, 'span_info');
  if (!spanInfo || !spanInfo.startsWith('{')) return null;
  const traceId = idHex(rawMemberText(spanInfo, 'trace_id'), 32);
  const spanId = idHex(rawMemberText(spanInfo, 'span_id'), 16);
  if (!traceId || !spanId) return null;
  const flags = Number(rawMemberText(spanInfo, 'trace_flags') ?? TraceFlags.SAMPLED);
  return { traceId, spanId, traceFlags: Number.isInteger(flags) ? flags & 0xff : TraceFlags.SAMPLED, isRemote: true };
}

/**
 * The request's own stand-in parent: trace id = `event_id` when it is 32 hex digits (Nodepool's
 * uuid4 hex), else a hash of the request id; span id = a hash of the request id. The parent span
 * itself is never exported: trace viewers show the request spans as roots of one trace.
 */
export function derivedSpanContext(request: NodeRequest): SpanContext {
  const digest = (s: string): string => createHash('sha256').update(s).digest('hex');
  const eventId = request.event_id?.toLowerCase() ?? '';
  const traceId = /^[0-9a-f]{32}$/.test(eventId) && !/^0+$/.test(eventId) ? eventId : digest(`request ${request.id}`).slice(0, 32);
  return { traceId, spanId: digest(`span ${request.id}`).slice(0, 16), traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

/** The context every span about `request` starts from (see the module comment). */
export function requestParentContext(request: NodeRequest): Context {
  return trace.setSpanContext(ROOT_CONTEXT, zuulSpanContext(request) ?? derivedSpanContext(request));
}

/** Attributes of a span about `request` handled by pool launcher `poolId`. */
export function requestSpanAttributes(request: NodeRequest, poolId: string): Record<string, string> {
  return {
    'nodepool.request': request.id ?? '',
    'nodepool.labels': request.node_types.join(','),
    'nodepool.requestor': request.requestor ?? '',
    'nodepool.event_id': request.event_id ?? '',
    'nodepool.tenant': request.tenant_name ?? '',
    'nodepool.pool': poolId,
  };
}
