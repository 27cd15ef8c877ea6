/**
 * One trace across two `nodepool-launcher` processes (real OTLP/HTTP export to a small collector
 * in the test, as launcher-kernel.test.ts does: the exporter does not deliver inside jest's
 * sandbox). Launcher A accepts a request carrying Zuul's `span_info` and starts a slow launch,
 * then stops (the request goes back to `requested`); launcher B takes the request over and
 * fulfils it. Every span both processes export about the request is in Zuul's trace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EngineHarness, TEST_PLUGINS, waitUntil } from '../support/engine-harness';
import { REPO_PLUGINS } from '../support/test-settings';

const ROOT = path.resolve(__dirname, '../..');
const h = new EngineHarness();

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: { stringValue?: string } }>;
  service: string;
}

let collector: http.Server;
const spans: OtlpSpan[] = [];

beforeAll(async () => {
  await h.open();
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of parsed.resourceSpans) {
        const host = rs.resource.attributes.find((a) => a.key === 'host.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service: host });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  collector?.close();
  await h.close();
});

function startProcess(name: string, body: string): { child: ChildProcess; exit: Promise<number | null>; log: () => string } {
  const file = h.writeConfig(name, body);
  const { port } = collector.address() as AddressInfo;
  const child = spawn(process.execPath, [
    path.join(ROOT, 'bin/nodepool-launcher'), '-f', '-c', file, '--no-web',
    '--plugin-dirs', `${REPO_PLUGINS},${TEST_PLUGINS}`,
    '--tracing-exporter', 'otlp', '--tracing-endpoint', `http://127.0.0.1:${port}/v1/traces`,
  ], { env: { ...process.env, NODEPOOL_TS_HOSTNAME: name, NODEPOOL_TS_LOG_FORMAT: 'json' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, log: () => log };
}

const config = (bootSteps: number): string =>
  'labels:\n  - name: small\n' +
  `providers:\n  - name: fake-a\n    driver: fake\n    boot-steps: ${bootSteps}\n    pools:\n      - name: main\n        labels:\n          - name: small\n`;

it('a request begun by one launcher and finished by another is one trace, parented on Zuul\'s span', async () => {
  const traceId = 0x0af7651916cd43dd8448eb211c80319cn;
  const spanId = 0xb7ad6b7169203331n;
  const sub = await h.zuul.submit({
    labels: ['small'],
    requestorData: { build_set_uuid: 'b', tenant_name: 'tenant-one', pipeline_name: 'check', job_uuid: 'j', job_name: 'job', span_info: { trace_id: 1, span_id: 2, trace_flags: 1 } },
  });
  const text = (await h.client.get(sub.path)).data!.toString();
  await h.client.set(sub.path, Buffer.from(text.replace('"trace_id":1', `"trace_id": ${traceId}`).replace('"span_id":2', `"span_id": ${spanId}`)));

  // A: a launch that would take minutes (one state-machine step a second).
  const a = startProcess('trace-a', config(1000));
  try {
    await waitUntil('launcher A to start launching', async () => (await h.nodes((n) => n.state === 'building' && n.allocated_to === sub.id)).length > 0, 30000);
  } catch (err) {
    a.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${a.log()}`);
  }
  a.child.kill('SIGTERM');
  expect(await a.exit).toBe(0);
  expect((await h.zk.getNodeRequest(sub.id))?.state).toBe('requested');

  const b = startProcess('trace-b', config(1));
  let req;
  try {
    req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 30000);
  } finally {
    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0);
  }
  expect(req.state).toBe('fulfilled');

  const hex = traceId.toString(16).padStart(32, '0');
  // Deletions (e.g. of the node A left half-built) and cleanup passes are traces of their own.
  const about = spans.filter((s) => s.name.startsWith('nodepool.') && !s.name.startsWith('nodepool.cleanup') && !s.name.startsWith('nodepool.delete'));
  const requestSpans = about.filter((s) => s.name === 'nodepool.request');
  expect(requestSpans.map((s) => s.service).sort()).toEqual(['trace-a', 'trace-b']);
  for (const s of requestSpans) {
    expect(s.traceId).toBe(hex);
    expect(s.parentSpanId).toBe(spanId.toString(16));
  }
  const launches = about.filter((s) => s.name === 'nodepool.launch');
  expect(launches.map((s) => s.service).sort()).toEqual(['trace-a', 'trace-b']);
  for (const s of about) expect({ name: s.name, traceId: s.traceId }).toEqual({ name: s.name, traceId: hex });
  // Each launch hangs under its own launcher's request span.
  for (const l of launches) {
    const parent = requestSpans.find((r) => r.spanId === l.parentSpanId);
    expect(parent?.service).toBe(l.service);
  }
}, 90000);
