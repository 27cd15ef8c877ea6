/**
 * `dynamic-instance-properties` (spec drivers-config §5.1): Python format strings over the node
 * request, e.g. `{request.event_id}`. Values print the way Python's `str()` would, so metadata
 * matches what a Python launcher writes; a field that cannot be formatted skips that key.
 */
import type { Logger, NodeRequest } from '@nodepool-ts/sdk';

/** Python's `str()` of a JSON-like value (lists/dicts as their repr). */
export function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return pythonStr(value);
}

/** The `request.*` fields Nodepool offers to the templates. */
function fieldsOf(request: NodeRequest): Record<string, unknown> {
  return {
    id: request.id,
    labels: request.node_types,
    requestor: request.requestor,
    requestor_data: request.requestor_data,
    relative_priority: request.relative_priority,
    event_id: request.event_id,
    created_time: request.created_time,
    tenant_name: request.tenant_name,
  };
}

/**
 * Formats each template with the request; keys whose template names an unknown field (or any
 * field when there is no request) are logged and left out, as Nodepool does.
 */
export function formatDynamicProperties(templates: Record<string, string>, request: NodeRequest | undefined, log: Logger): Record<string, string> {
  const out: Record<string, string> = {};
  const fields = request ? fieldsOf(request) : undefined;
  for (const [key, template] of Object.entries(templates)) {
    let bad: string | null = null;
    const value = template.replace(/\{([^{}]*)\}/g, (_m, expr: string) => {
      const name = /^request\.([a-z_]+)$/.exec(expr)?.[1];
      if (!fields || name === undefined || !(name in fields)) {
        bad ??= expr;
        return '';
      }
      return pythonStr(fields[name]);
    });
    if (bad !== null) log.warn('skipping dynamic instance property', { key, field: bad });
    else out[key] = value;
  }
  return out;
}
