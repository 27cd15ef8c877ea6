import fs from 'node:fs';
import path from 'node:path';
import { SAMPLES_DIR, loadSample } from '../../test/support/spec-samples';
import { NODE_LIST_DETAIL_COLUMNS, pythonJsonDumps, statusTable, type StatusRow } from '../status/index';
import { ENDPOINTS } from './dashboard-page';
import { WebRoutes, type WebSource } from './web-routes';

const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');

function source(overrides: Partial<WebSource> = {}): WebSource & { nodeCalls: number } {
  const nodes = loadSample<StatusRow[]>('cli-web/web-node-list.json');
  const s = {
    nodeCalls: 0,
    ready: () => true,
    nodeList: (json: boolean, id: string | undefined, fields: readonly string[] | undefined) => {
      s.nodeCalls++;
      const rows = id === undefined ? nodes : nodes.filter((n) => n.id === id);
      return json ? pythonJsonDumps(rows) : statusTable(NODE_LIST_DETAIL_COLUMNS, rows, fields);
    },
    requestRows: () => loadSample<StatusRow[]>('cli-web/web-request-list-pending.json'),
    labelRows: () => [{ label: 'static-label' }],
    // No builder: the image listings are empty, as in the captured sample.
    imageRows: () => [],
    dibImageRows: () => [],
    imageStatusRows: () => [],
    launcherRows: () => [],
    providerRows: () => [],
    metrics: async () => '# HELP x y\n# TYPE x counter\nx 1\n',
    ...overrides,
  };
  return s;
}

const get = (url: string, headers: Record<string, string> = {}): { method: string; url: string; headers: Record<string, string> } => ({ method: 'GET', url, headers });

describe('WebRoutes', () => {
  it('serves the captured text and JSON bodies for the listings', async () => {
    const routes = new WebRoutes(source());
    expect((await routes.handle(get('/node-list'))).body).toBe(sample('web-node-list.txt'));
    expect((await routes.handle(get('/node-list', { accept: 'application/json' }))).body).toBe(sample('web-node-list.json'));
    expect((await routes.handle(get('/node-list.json'))).body).toBe(sample('web-node-list.json'));
    expect((await routes.handle(get('/request-list'))).body).toBe(sample('web-request-list-pending.txt'));
    expect((await routes.handle(get('/request-list.json'))).body).toBe(sample('web-request-list-pending.json'));
    expect((await routes.handle(get('/label-list'))).body).toBe(sample('web-label-list.txt'));
    expect((await routes.handle(get('/label-list.json'))).body).toBe(sample('web-label-list.json'));
    expect((await routes.handle(get('/image-list'))).body).toBe(sample('web-image-list.txt'));
    expect((await routes.handle(get('/image-list.json'))).body).toBe(sample('web-image-list.json'));
    expect((await routes.handle(get('/dib-image-list'))).body.split('\n')[1]).toBe('| ID | Image | Builder | Formats | State | Age |');
    expect((await routes.handle(get('/dib-image-list.json'))).body).toBe('[]');
    expect((await routes.handle(get('/image-status'))).body.split('\n')[1]).toBe('| Image | Paused | Build Request | Build Request Age |');
    expect((await routes.handle(get('/image-status.json'))).body).toBe('[]');
  });

  it('sends Nodepool\'s headers and content types', async () => {
    const routes = new WebRoutes(source());
    const now = Date.parse('Thu, 26 Nov 2026 06:34:07 GMT') + 300;
    const json = await routes.handle(get('/node-list?node_id=nope', { accept: 'application/json' }), now);
    const captured = sample('web-node-list-nodeid.http').replace(/\r/g, '');
    expect(json.body).toBe('[]');
    for (const name of ['Content-Type', 'Access-Control-Allow-Origin', 'Cache-Control', 'Last-Modified', 'Expires']) {
      expect(captured).toContain(`${name}: ${json.headers[name]}\n`);
    }
    expect((await routes.handle(get('/node-list'))).headers['Content-Type']).toBe('text/plain; charset=UTF-8');
  });

  it('filters by node_id and, in text only, by fields', async () => {
    const routes = new WebRoutes(source());
    const one = JSON.parse((await routes.handle(get('/node-list.json?node_id=0000000747'))).body) as StatusRow[];
    expect(one.map((n) => n.id)).toEqual(['0000000747']);
    const text = (await routes.handle(get('/node-list?fields=id,state'))).body;
    expect(text.split('\n')[1]).toMatch(/^\| ID +\| State +\|$/);
    const json = JSON.parse((await routes.handle(get('/node-list.json?fields=id,state'))).body) as StatusRow[];
    expect(Object.keys(json[0])).toHaveLength(21);
  });

  it('answers /ready 503 until ready, never from the cache', async () => {
    let ready = false;
    const routes = new WebRoutes(source({ ready: () => ready }));
    expect((await routes.handle(get('/ready'))).status).toBe(503);
    ready = true;
    const ok = await routes.handle(get('/ready'));
    expect([ok.status, ok.body]).toEqual([200, 'OK']);
  });

  it('reuses a body for 1 s per path, query and format, then regenerates', async () => {
    const s = source();
    const routes = new WebRoutes(s);
    await routes.handle(get('/node-list'), 1000);
    await routes.handle(get('/node-list'), 1999);
    expect(s.nodeCalls).toBe(1);
    await routes.handle(get('/node-list.json'), 1999);
    await routes.handle(get('/node-list?node_id=0000000747'), 1999);
    expect(s.nodeCalls).toBe(3);
    await routes.handle(get('/node-list'), 2000);
    expect(s.nodeCalls).toBe(4);
  });

  it('honours If-Modified-Since', async () => {
    const routes = new WebRoutes(source());
    const first = await routes.handle(get('/label-list'), 5000);
    const again = await routes.handle(get('/label-list', { 'if-modified-since': first.headers['Last-Modified'] }), 5500);
    expect(again.status).toBe(304);
    const old = await routes.handle(get('/label-list', { 'if-modified-since': new Date(0).toUTCString() }), 5500);
    expect(old.status).toBe(200);
  });

  it('404s unknown paths, refuses other methods with 405, and serves /metrics as Prometheus text', async () => {
    const routes = new WebRoutes(source());
    expect((await routes.handle(get('/bogus'))).status).toBe(Number(sample('web-bogus.code').trim()));
    expect((await routes.handle({ method: 'POST', url: '/node-list', headers: {} })).status).toBe(405);
    const metrics = await routes.handle(get('/metrics'));
    expect(metrics.headers['Content-Type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('x 1');
  });

  it('serves the dashboard to a browser at / and the list of endpoints to other clients', async () => {
    const routes = new WebRoutes(source());
    const browser = await routes.handle(get('/', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }));
    expect([browser.status, browser.headers['Content-Type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(browser.headers['Content-Security-Policy']).toContain("default-src 'none'");
    for (const e of ENDPOINTS) expect(browser.body).toContain(`href="${e.path.slice(1)}"`);
    for (const asset of ['dashboard.js', 'dashboard.css']) {
      expect(browser.body).toContain(`"${asset}"`);
      const res = await routes.handle(get(`/${asset}`));
      expect(res.status).toBe(200);
      expect(res.body.length).toBeGreaterThan(500);
    }
    // Nothing from elsewhere: no absolute URL in the page, script or style sheet.
    for (const p of ['/', '/dashboard.js', '/dashboard.css']) {
      expect((await routes.handle(get(p, { accept: 'text/html' }))).body).not.toMatch(/(https?:)?\/\/[a-z0-9]/i);
    }
    const curl = await routes.handle(get('/', { accept: '*/*' }));
    expect(curl.headers['Content-Type']).toBe('text/plain; charset=UTF-8');
    for (const e of ENDPOINTS) expect(curl.body).toContain(e.path);
    const json = JSON.parse((await routes.handle(get('/', { accept: 'application/json' }))).body) as { path: string }[];
    expect(json.map((e) => e.path)).toEqual(ENDPOINTS.map((e) => e.path));
  });

  it('serves /launcher-list and /provider-list like the other listings', async () => {
    const routes = new WebRoutes(source({
      launcherRows: () => [{ hostname: 'h1', state: 'running', version: '1', pools: ['p/main'], provider_states: { p: 'running' } }],
      providerRows: () => [{ provider: 'p', pool: 'main', launchers: ['h1'], labels: ['a', 'b'], paused: false, nodes: 3, max_servers: 5, provider_states: {} }],
    }));
    expect((await routes.handle(get('/launcher-list'))).body.split('\n')[1]).toMatch(/^\| Hostname +\| State +\| Version +\| Pools +\| Provider States +\|$/);
    expect((await routes.handle(get('/launcher-list.json'))).body).toContain('"provider_states": {"p": "running"}');
    const text = (await routes.handle(get('/provider-list'))).body.split('\n');
    expect(text[3]).toMatch(/^\| p +\| main +\| h1 +\| a,b +\| False +\| 3 +\| 5 +\| \{\} +\|$/);
    expect(JSON.parse((await routes.handle(get('/provider-list', { accept: 'application/json' }))).body)).toEqual([expect.objectContaining({ provider: 'p', nodes: 3 })]);
  });
});
