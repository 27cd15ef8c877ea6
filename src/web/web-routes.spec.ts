import fs from 'node:fs';
import path from 'node:path';
import { SAMPLES_DIR, loadSample } from '../../test/support/spec-samples';
import { NODE_LIST_DETAIL_COLUMNS, pythonJsonDumps, statusTable, type StatusRow } from '../status/index';
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
});
