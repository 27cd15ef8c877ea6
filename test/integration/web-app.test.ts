/**
 * The web status API against a real ZooKeeper: a kernel with the WebApp as a core service,
 * records written with NodepoolZk, answers compared with the captured samples' keys, columns
 * and headers; the cache follows changes made after start (watches); `/metrics` parses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kernel } from '../../src/kernel/kernel';
import { quietLogger } from '../../src/cli/cli-zk';
import { Metrics } from '../../src/plugins/metrics';
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { WebApp } from '../../src/web/web-app';
import { SAMPLES_DIR } from '../support/spec-samples';
import { parsePrometheusText } from '../support/prometheus-text';
import { startWebKernel } from '../support/web-kernel';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let client: ZkClient;
let zk: NodepoolZk;
let kernel: Kernel;
let web: WebApp;
let base: string;

const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');
const sampleKeys = (name: string): string[] => Object.keys((JSON.parse(sample(name)) as Record<string, unknown>[])[0]);
const headersOf = (text: string): string[] => text.split('\n')[1].slice(2, -2).split(' | ').map((c) => c.trim());

async function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${base}${p}`, { headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function nodes(query = ''): Promise<Record<string, unknown>[]> {
  return JSON.parse((await get(`/node-list.json${query}`)).body) as Record<string, unknown>[];
}

/** Polls `probe` until it returns true (the cache follows ZooKeeper by watches, not at once). */
async function eventually(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function makeNode(fields: Partial<Node> = {}): Promise<Node> {
  const node = new Node();
  Object.assign(node, { type: ['small'], provider: 'static-a', pool: 'main', ...fields });
  node.state = (fields.state as Node['state']) ?? 'ready';
  return zk.createNode(node);
}

let early: Node;

beforeAll(async () => {
  server = await startZooKeeper();
  client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await client.connect();
  zk = new NodepoolZk(client, quietLogger);
  early = await makeNode({ external_id: 'before-start', user_data: { zuul_system: 'z' } });
  ({ kernel, web, base } = await startWebKernel(server));
});

afterAll(async () => {
  await kernel?.stop();
  await client?.close();
  await server?.stop();
});

describe('web app', () => {
  it('answers /ready 503 until the launcher says it started, then 200 OK', async () => {
    expect((await get('/ready')).status).toBe(503);
    web.setReady(true);
    const ok = await get('/ready');
    expect([ok.status, ok.body]).toEqual([200, sample('web-ready.txt')]);
  });

  it('serves nodes present before start with the sample keys, columns and headers', async () => {
    const rows = await nodes();
    expect(rows.map((r) => r.id)).toEqual([early.id]);
    expect(Object.keys(rows[0])).toEqual(sampleKeys('web-node-list.json'));
    expect(rows[0]).toMatchObject({ server_id: 'before-start', label: ['small'], locked: 'unlocked', user_data: { zuul_system: 'z' } });
    const text = await get('/node-list');
    expect(headersOf(text.body)).toEqual(headersOf(sample('web-node-list.txt')));
    expect(text.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    const json = await get('/node-list', { Accept: 'application/json' });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(json.headers.get('access-control-allow-origin')).toBe('*');
    expect(json.headers.get('cache-control')).toBe('max-age=1, public');
    expect(JSON.parse(json.body)).toEqual(rows.map((r) => ({ ...r, age: expect.any(String) })));
    expect(await nodes('?node_id=0000999999')).toEqual([]);
    expect((await nodes(`?node_id=${early.id}`)).map((r) => r.id)).toEqual([early.id]);
    expect((await get('/bogus')).status).toBe(404);
  });

  it('follows a node added, changed, locked, unlocked and deleted after start', async () => {
    const n = await makeNode({ state: 'building' });
    await eventually(async () => (await nodes()).some((r) => r.id === n.id && r.state === 'building'));
    n.state = 'ready';
    n.public_ipv4 = '10.1.1.1';
    await zk.storeNode(n);
    await eventually(async () => (await nodes(`?node_id=${n.id}`))[0]?.public_ipv4 === '10.1.1.1');
    expect((await nodes(`?node_id=${n.id}`))[0].state).toBe('ready');
    await zk.lockNode(n);
    await eventually(async () => (await nodes(`?node_id=${n.id}`))[0]?.locked === 'locked');
    await zk.unlockNode(n);
    await eventually(async () => (await nodes(`?node_id=${n.id}`))[0]?.locked === 'unlocked');
    await zk.deleteNode(n);
    await eventually(async () => !(await nodes()).some((r) => r.id === n.id));
    expect((await nodes()).map((r) => r.id)).toEqual([early.id]);
  });

  it('follows requests and pool labels', async () => {
    const r = new NodeRequest();
    r.node_types = ['small'];
    r.requestor = 'zuul-sim';
    await zk.submitNodeRequest(r, '100', { ephemeral: false });
    const requests = async (): Promise<Record<string, unknown>[]> => JSON.parse((await get('/request-list.json')).body) as Record<string, unknown>[];
    await eventually(async () => (await requests()).length === 1);
    expect(Object.keys((await requests())[0])).toEqual(sampleKeys('web-request-list-pending.json'));
    expect(headersOf((await get('/request-list')).body)).toEqual(headersOf(sample('web-request-list.txt')));
    await zk.deleteNodeRequest(r.id as string);
    await eventually(async () => (await requests()).length === 0);

    const reg = await zk.registerComponent('pool', {
      hostname: 'h', kind: 'pool', state: 'running', version: 'x', model_api: 0, id: 'p1', name: 'main',
      provider_name: 'static-a', supported_labels: ['static-label'], priority: 100, paused: false,
    });
    await eventually(async () => (await get('/label-list.json')).body === sample('web-label-list.json'));
    expect((await get('/label-list')).body).toBe(sample('web-label-list.txt'));
    await reg.unregister();
    await eventually(async () => (await get('/label-list.json')).body === '[]');
    expect((await get('/image-list')).body).toBe(sample('web-image-list.txt'));
  });

  it('serves the kernel registry on /metrics in valid Prometheus text', async () => {
    kernel.container.get<Metrics>(Metrics).counter('nodepool_test_things_total', 'things', ['kind']).inc({ kind: 'a"b' }, 3);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(res.body);
    expect(samples).toContainEqual({ name: 'nodepool_test_things_total', labels: { kind: 'a"b' }, value: 3 });
    expect(samples.some((s) => s.name === 'nodepool_web_requests_total' && s.labels.route === 'node-list')).toBe(true);
    expect(() => parsePrometheusText('nodepool_x 1\n')).toThrow(/untyped family/);
    expect(() => parsePrometheusText('# TYPE a counter\na{b=c} 1\n')).toThrow(/bad labels/);
  });

  it('stops listening on stop', async () => {
    await web.stop();
    await expect(fetch(`${base}/ready`)).rejects.toThrow();
  });
});
