/** Tiny routing helpers shared by the simulator's services. */

/** A parsed request handed to a route. */
export interface SimRequest {
  method: string;
  /** Path below the service prefix, without query. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** `http://host:port` as advertised in the catalog (proxy-aware). */
  base: string;
}

/** What a route answers. */
export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A route: method, path pattern with `:params`, handler. */
export type Route = [method: string, pattern: string, handler: (req: SimRequest, params: Record<string, string>) => SimResponse];

/** Matches `path` against the routes; null when none matches. */
export function dispatch(routes: Route[], req: SimRequest): SimResponse | null {
  const parts = req.path.split('/').filter(Boolean);
  for (const [method, pattern, handler] of routes) {
    if (method !== req.method) continue;
    const pat = pattern.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (pat.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return handler(req, params);
    }
  }
  return null;
}

/** An OpenStack-shaped error answer (`{"<kind>": {"message", "code"}}`). */
export function fail(status: number, message: string, kind = 'error'): SimResponse {
  return { status, body: { [kind]: { message, code: status } } };
}

/** 404 in Nova's shape. */
export function notFound(what: string): SimResponse {
  return fail(404, `${what} could not be found.`, 'itemNotFound');
}
