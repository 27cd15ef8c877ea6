/**
 * The dashboard at `/`: one HTML page with a plain script and style sheet (`dashboard/`, no
 * framework, no build step, nothing loaded from elsewhere), read from disk once and served from
 * memory. The list of endpoints lives here, so the page and the text index at `/` (what `curl`
 * gets) can never disagree.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One endpoint of the web app, as the index lists it. */
export interface EndpointInfo {
  path: string;
  what: string;
  /** Has a `.json` form. */
  json: boolean;
}

/** Every endpoint, in the order the index lists them. */
export const ENDPOINTS: readonly EndpointInfo[] = [
  { path: '/node-list', what: 'nodes (Nodepool)', json: true },
  { path: '/request-list', what: 'node requests (Nodepool)', json: true },
  { path: '/label-list', what: 'labels of the registered pools (Nodepool)', json: true },
  { path: '/image-list', what: 'image uploads a nodepool-builder recorded (Nodepool)', json: true },
  { path: '/dib-image-list', what: 'image builds (Nodepool)', json: true },
  { path: '/image-status', what: 'image pause flags and build requests (Nodepool)', json: true },
  { path: '/launcher-list', what: 'launcher components, their pools and provider states', json: true },
  { path: '/provider-list', what: 'provider pools: launchers, labels, paused, nodes by state, quota used against the caps', json: true },
  { path: '/metrics', what: 'Prometheus metrics', json: false },
  { path: '/ready', what: 'OK once the launcher runs, 503 before and while stopping', json: false },
  { path: '/events', what: 'server-sent events: which listings changed', json: false },
];

/** A file served as it is. */
export interface StaticAsset {
  contentType: string;
  body: string;
}

/** Content-Security-Policy of the page: everything from this origin only (no CDN, no inline code). */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DIR = path.join(__dirname, 'dashboard');

let assets: Map<string, StaticAsset> | undefined;

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function endpointListHtml(): string {
  // Relative links: the page keeps working behind a proxy that serves it under a sub-path.
  return ENDPOINTS.map((e) => {
    const json = e.json ? ` <a href="${e.path.slice(1)}.json">${e.path}.json</a>` : '';
    return `<li><a href="${e.path.slice(1)}">${e.path}</a>${json} <span class="muted">${escapeHtml(e.what)}</span></li>`;
  }).join('\n        ');
}

/** `/`, `/dashboard.js` and `/dashboard.css`, read on first use. */
export function dashboardAssets(): ReadonlyMap<string, StaticAsset> {
  if (!assets) {
    const read = (name: string): string => fs.readFileSync(path.join(DIR, name), 'utf8');
    const page = read('index.html').replace('<!-- ENDPOINTS -->', endpointListHtml());
    assets = new Map([
      ['/', { contentType: 'text/html; charset=utf-8', body: page }],
      ['/dashboard.js', { contentType: 'text/javascript; charset=utf-8', body: read('dashboard.js') }],
      ['/dashboard.css', { contentType: 'text/css; charset=utf-8', body: read('dashboard.css') }],
    ]);
  }
  return assets;
}

/** The index at `/` for clients that do not ask for HTML: one line per endpoint. */
export function endpointIndexText(): string {
  const width = Math.max(...ENDPOINTS.map((e) => e.path.length + (e.json ? '[.json]'.length : 0)));
  const lines = ENDPOINTS.map((e) => `${(e.path + (e.json ? '[.json]' : '')).padEnd(width)}  ${e.what}`);
  return `nodepool-ts web status API (a dashboard is at / in a browser)\n\n${lines.join('\n')}\n`;
}
