/**
 * The web app's endpoints as a pure function of the request and a {@link WebSource}: paths,
 * format choice (`Accept` or a `.json` suffix), `?node_id=` and `?fields=`, Nodepool's headers,
 * and a 1 s cache of generated bodies keyed by path, query and format (WEB:34-52, 136-160).
 */
import {
  DIB_IMAGE_LIST_COLUMNS, IMAGE_LIST_COLUMNS, IMAGE_STATUS_COLUMNS, LABEL_LIST_COLUMNS, REQUEST_LIST_COLUMNS, pythonJsonDumps,
  WEB_CELL_MAX, statusTable, type StatusColumn, type StatusRow,
} from '../status/index';
import { prefersHtml, wantsJson } from './accept';
import { DASHBOARD_CSP, ENDPOINTS, dashboardAssets, endpointIndexText } from './dashboard-page';
import { LAUNCHER_LIST_COLUMNS, PROVIDER_LIST_COLUMNS } from './fleet-rows';

/** Where the listings come from. */
export interface WebSource {
  /** True once the launcher has started. */
  ready(): boolean;
  /** Once started: why the launcher serves nothing now (no provider running, ZooKeeper away), or undefined. */
  notReady?(): string | undefined;
  /** The `/node-list` body: JSON or text (with `fields`), all nodes or the one `nodeId`. */
  nodeList(json: boolean, nodeId: string | undefined, fields: readonly string[] | undefined): string;
  requestRows(): StatusRow[];
  labelRows(): StatusRow[];
  /** `/image-list`: one row per upload the builder recorded. */
  imageRows(): StatusRow[];
  /** `/dib-image-list`: one row per build. */
  dibImageRows(): StatusRow[];
  /** `/image-status`: one row per image. */
  imageStatusRows(): StatusRow[];
  /** `/launcher-list`: one row per launcher component. */
  launcherRows(): StatusRow[];
  /** `/provider-list`: one row per provider pool. */
  providerRows(): StatusRow[];
  /** Prometheus text exposition of the kernel's registry. */
  metrics(): Promise<string>;
}

/** An incoming request, as far as the routes care. */
export interface WebRequest {
  method: string;
  /** Path and query, e.g. `/node-list?node_id=0000000001`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A response to write. */
export interface WebResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Route name for metrics (`node-list`, `other`, ...). */
  route: string;
}

/** Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const TEXT = 'text/plain; charset=UTF-8';

/** Builds one listing's body. */
type Listing = (source: WebSource, query: URLSearchParams, json: boolean, fields: readonly string[] | undefined) => string;

function rowsListing(columns: readonly StatusColumn[], rows: (source: WebSource) => StatusRow[]): Listing {
  return (source, _query, json, fields) => (json ? pythonJsonDumps(rows(source)) : statusTable(columns, rows(source), fields, undefined, WEB_CELL_MAX));
}

const LISTINGS: Record<string, Listing> = {
  '/node-list': (s, q, json, fields) => s.nodeList(json, q.get('node_id') ?? undefined, fields),
  '/request-list': rowsListing(REQUEST_LIST_COLUMNS, (s) => s.requestRows()),
  '/label-list': rowsListing(LABEL_LIST_COLUMNS, (s) => s.labelRows()),
  // Written by a Python nodepool-builder; empty where none runs.
  '/image-list': rowsListing(IMAGE_LIST_COLUMNS, (s) => s.imageRows()),
  '/dib-image-list': rowsListing(DIB_IMAGE_LIST_COLUMNS, (s) => s.dibImageRows()),
  '/image-status': rowsListing(IMAGE_STATUS_COLUMNS, (s) => s.imageStatusRows()),
  // Ours (the dashboard's data); Nodepool has no such listings.
  '/launcher-list': rowsListing(LAUNCHER_LIST_COLUMNS, (s) => s.launcherRows()),
  '/provider-list': rowsListing(PROVIDER_LIST_COLUMNS, (s) => s.providerRows()),
};

interface CachedBody {
  body: string;
  json: boolean;
  generatedMs: number;
}

function header(req: WebRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The routes with their response cache; one per web app. */
export class WebRoutes {
  private readonly cache = new Map<string, CachedBody>();

  /** @param cacheTtlMs how long a generated body is reused (Nodepool: 1 s); 0 disables. */
  constructor(
    private readonly source: WebSource,
    private readonly cacheTtlMs = 1000,
  ) {}

  /** Answers one request. */
  async handle(req: WebRequest, nowMs: number = Date.now()): Promise<WebResponse> {
    const url = new URL(req.url, 'http://localhost');
    let path = url.pathname;
    // Read-only API: every other method is refused with 405 (and never reaches a listing).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return { status: 405, headers: { 'Content-Type': TEXT, Allow: 'GET, HEAD' }, body: 'Method Not Allowed', route: 'other' };
    }
    if (path === '/health') {
      // Liveness: the process answers. Readiness (may it get work) is /ready.
      return { status: 200, headers: { 'Content-Type': TEXT }, body: 'OK', route: 'health' };
    }
    if (path === '/ready') {
      // Never cached: a load balancer polls it to learn when the launcher is up.
      if (!this.source.ready()) return { status: 503, headers: { 'Content-Type': TEXT }, body: 'Service Unavailable', route: 'ready' };
      const reason = this.source.notReady?.();
      return reason === undefined
        ? { status: 200, headers: { 'Content-Type': TEXT }, body: 'OK', route: 'ready' }
        : { status: 503, headers: { 'Content-Type': TEXT }, body: `Service Unavailable: ${reason}`, route: 'ready' };
    }
    if (path === '/metrics') {
      return { status: 200, headers: { 'Content-Type': PROMETHEUS_CONTENT_TYPE }, body: await this.source.metrics(), route: 'metrics' };
    }
    if (path === '/') return indexPage(header(req, 'accept'));
    const asset = path === '/dashboard.js' || path === '/dashboard.css' ? dashboardAssets().get(path) : undefined;
    if (asset) return { status: 200, headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' }, body: asset.body, route: 'dashboard' };
    let json = wantsJson(header(req, 'accept'));
    if (path.endsWith('.json')) {
      path = path.slice(0, -'.json'.length);
      json = true;
    }
    const listing = LISTINGS[path];
    if (!listing) return notFound();
    const key = `${path}?${url.searchParams.toString()}|${json ? 'json' : 'text'}`;
    let cached = this.cache.get(key);
    if (!cached || nowMs - cached.generatedMs >= this.cacheTtlMs) {
      const fields = url.searchParams.get('fields')?.split(',').map((f) => f.trim()).filter((f) => f !== '');
      cached = { body: listing(this.source, url.searchParams, json, fields), json, generatedMs: nowMs };
      this.pruneCache(nowMs);
      if (this.cacheTtlMs > 0) this.cache.set(key, cached);
    }
    const generatedSec = Math.floor(cached.generatedMs / 1000) * 1000;
    const headers: Record<string, string> = {
      'Content-Type': cached.json ? 'application/json' : TEXT,
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'max-age=1, public',
      'Last-Modified': new Date(generatedSec).toUTCString(),
      Expires: new Date(generatedSec + 1000).toUTCString(),
    };
    const since = Date.parse(header(req, 'if-modified-since') ?? '');
    if (Number.isFinite(since) && since >= generatedSec) return { status: 304, headers, body: '', route: path.slice(1) };
    return { status: 200, headers, body: cached.body, route: path.slice(1) };
  }

  /** Drops expired bodies so distinct queries (`?node_id=`) cannot grow the cache forever. */
  private pruneCache(nowMs: number): void {
    if (this.cache.size < 64) return;
    for (const [key, value] of this.cache) if (nowMs - value.generatedMs >= this.cacheTtlMs) this.cache.delete(key);
  }
}

/** `/`: the dashboard for a browser, else the list of endpoints (text, or JSON when asked). */
function indexPage(accept: string | undefined): WebResponse {
  const vary = { Vary: 'Accept', 'Cache-Control': 'no-cache' };
  if (prefersHtml(accept)) {
    const page = dashboardAssets().get('/') as { contentType: string; body: string };
    const headers = { ...vary, 'Content-Type': page.contentType, 'Content-Security-Policy': DASHBOARD_CSP, 'X-Content-Type-Options': 'nosniff' };
    return { status: 200, headers, body: page.body, route: 'dashboard' };
  }
  if (wantsJson(accept)) return { status: 200, headers: { ...vary, 'Content-Type': 'application/json' }, body: JSON.stringify(ENDPOINTS), route: 'index' };
  return { status: 200, headers: { ...vary, 'Content-Type': TEXT }, body: endpointIndexText(), route: 'index' };
}

function notFound(): WebResponse {
  return { status: 404, headers: { 'Content-Type': TEXT }, body: 'Not Found', route: 'other' };
}
