/**
 * The engine's observability against a real ZooKeeper with the fake driver: `/metrics` node
 * gauges equal the nodes in ZooKeeper (parsed with a Prometheus text reader), launch counters
 * and durations; Nodepool's statsd names received by a UDP listener after a launch; the spans
 * of a request (request → launch → state-machine steps) in one trace whose parent is Zuul's
 * `span_info`, which is written back unchanged to the bit.
 */
import dgram from 'node:dgram';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { WebApp } from '../../src/web/web-app';
import type { Node } from '../../src/zk/models/node';
import { EngineHarness, FAST_ENGINE, TEST_PLUGINS, waitUntil } from '../support/engine-harness';
import { REPO_PLUGINS, testSettings } from '../support/test-settings';
import { ZuulRequestor } from '../support/zuul-requestor';
import { parsePrometheusText, type PromSample } from '../support/prometheus-text';

const h = new EngineHarness();

const CONFIG =
  'labels:\n  - name: small\n  - name: big\n' +
  'providers:\n  - name: fake-a\n    driver: fake\n    boot-steps: 2\n    pools:\n      - name: main\n        max-servers: 5\n        labels:\n          - name: small\n';

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

async function scrape(port: number): Promise<PromSample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

function value(samples: PromSample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Node counts by `state/provider/label` as ZooKeeper has them. */
function countNodes(nodes: Node[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const key = `${n.state}/${n.provider}/${n.type[0]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('engine metrics', () => {
  let statsd: dgram.Socket;
  const received: string[] = [];

  beforeAll(async () => {
    statsd = dgram.createSocket('udp4');
    statsd.on('message', (msg) => received.push(...msg.toString().split('\n')));
    await new Promise<void>((r) => statsd.bind(0, '127.0.0.1', r));
  });
  afterAll(() => statsd.close());

  it('serves node, request, quota, ZooKeeper and launch series on /metrics and sends Nodepool statsd names', async () => {
    // As nodepool-launcher runs it: the web app as a core service after the engine.
    let web: WebApp | undefined;
    const logStream = new PassThrough();
    let logged = '';
    logStream.on('data', (d) => (logged += d.toString()));
    const launcher: Launcher = await createLauncher(testSettings({
      log: { level: 'info', format: 'auto' },
      config: h.writeConfig('obs', `${CONFIG}tenant-resource-limits:\n  - tenant-name: tenant.one\n    max-servers: 10\n`), hostname: 'obs', plugins: { dirs: [REPO_PLUGINS, TEST_PLUGINS] },
      web: { enabled: true, port: 0, listenAddress: '127.0.0.1' },
      statsd: { host: '127.0.0.1', port: (statsd.address() as AddressInfo).port, prefix: '' },
    }), { engine: { ...FAST_ENGINE, statsIntervalMs: 200 }, coreServices: (c) => [(web = new WebApp(c))], logStream });
    h.launchers.push(launcher);
    await launcher.kernel.start();
    const webPort = web!.address()!.port;
    const zuul = new ZuulRequestor(h.zk, { requestor: 'zuul.example:main', pollMs: 200 });
    const sub = await zuul.submit({ labels: ['small', 'small'] });
    const req = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');

    // Gauges equal what ZooKeeper holds, once the stats worker has seen the last change.
    const inZk = countNodes(await h.nodes());
    expect(inZk.get('ready/fake-a/small')).toBe(2);
    // The nodes turn ready before their request is fulfilled: a pass between the two shows ready
    // nodes beside a pending request, so both must match before the values are checked.
    await waitUntil('node and request gauges to match ZooKeeper', async () => {
      const samples = await scrape(webPort);
      const series = samples.filter((s) => s.name === 'nodepool_nodes');
      const nonZero = new Map(series.filter((s) => s.value > 0).map((s) => [`${s.labels.state}/${s.labels.provider}/${s.labels.label}`, s.value]));
      return JSON.stringify([...nonZero].sort()) === JSON.stringify([...inZk].sort())
        && value(samples, 'nodepool_requests', { state: 'fulfilled' }) === 1;
    });
    const samples = await scrape(webPort);
    // Zero-filled for every state of a configured label.
    expect(value(samples, 'nodepool_nodes', { state: 'building', provider: 'fake-a', label: 'small' })).toBe(0);
    expect(value(samples, 'nodepool_requests', { state: 'fulfilled' })).toBe(1);
    expect(value(samples, 'nodepool_requests', { state: 'requested' })).toBe(0);
    expect(value(samples, 'nodepool_pool_quota_used', { provider: 'fake-a', pool: 'main', resource: 'instances' })).toBe(2);
    expect(value(samples, 'nodepool_pool_max_servers', { provider: 'fake-a', pool: 'main' })).toBe(5);
    expect(value(samples, 'nodepool_zookeeper_connected', {})).toBe(1);
    expect(value(samples, 'nodepool_zookeeper_session_state', { state: 'connected' })).toBe(1);
    expect(value(samples, 'nodepool_launch_total', { provider: 'fake-a', label: 'small', result: 'ready' })).toBe(2);
    expect(value(samples, 'nodepool_launch_attempts_total', { provider: 'fake-a', label: 'small' })).toBe(2);
    expect(value(samples, 'nodepool_launch_duration_seconds_count', { provider: 'fake-a', label: 'small', result: 'ready' })).toBe(2);

    // statsd: Nodepool's launch timers and counters, and the node gauges (we hold the election).
    const expected = [
      /^nodepool\.launch\.ready:\d+\|ms$/,
      /^nodepool\.launch\.ready:1\|c$/,
      /^nodepool\.launch\.provider\.fake-a\.ready:\d+\|ms$/,
      /^nodepool\.launch\.provider\.fake-a\.ready:1\|c$/,
      /^nodepool\.launch\.requestor\.zuul_example_main\.ready:1\|c$/,
      /^nodepool\.nodes\.ready:2\|g$/,
      /^nodepool\.provider\.fake-a\.nodes\.ready:2\|g$/,
      /^nodepool\.label\.small\.nodes\.ready:2\|g$/,
      /^nodepool\.label\.small\.nodes\.deleting:0\|g$/,
      /^nodepool\.provider\.fake-a\.max_servers:5\|g$/,
      /^nodepool\.provider\.fake-a\.pool\.main\.addressable_requests:1\|g$/,
      /^nodepool\.tenant_limits\.tenant_one\.instances:10\|g$/,
    ];
    await waitUntil('the statsd lines', async () => expected.every((re) => received.some((line) => re.test(line))));
    expect(received.filter((l) => /^nodepool\.launch\.ready:1\|c$/.test(l))).toHaveLength(2);
    // The election winner is us, through a kazoo lock under Nodepool's path.
    expect((await h.client.getChildren('/nodepool/elections/stats')).length).toBe(1);
    await launcher.kernel.stop();

    // Logs: JSON lines (not a TTY), at the configured level, every line about a request or a
    // node names it in a field.
    const lines = logged.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => typeof l.level === 'number' && l.level >= 30)).toBe(true);
    const about = lines.filter((l) => /request|node/.test(String(l.msg)) && !/web status/.test(String(l.msg)));
    expect(about.map((l) => l.msg)).toEqual(expect.arrayContaining(['request accepted', 'launching node', 'node is ready', 'request fulfilled']));
    for (const l of about) expect(l.request ?? l.node).toBeTruthy();
    for (const l of lines.filter((x) => x.msg === 'launching node' || x.msg === 'node is ready')) {
      expect(l).toMatchObject({ request: sub.id, node: expect.any(String) });
    }
  });
});

describe('engine traces', () => {
  it('puts request, launch and step spans into the trace of Zuul\'s span_info, which stays exact', async () => {
    // 128-bit and 64-bit integers as Python's json.dumps writes them: far beyond 2^53.
    const traceId = 0x4bf92f3577b34da6a3ce929d0e0e4736n;
    const spanId = 0xf067aa0ba902b7c3n;
    const sub = await h.zuul.submit({
      labels: ['small'],
      requestorData: { build_set_uuid: 'b', tenant_name: 'tenant-one', pipeline_name: 'check', job_uuid: 'j', job_name: 'job', span_info: { name: 'BuildSet', trace_id: 1, span_id: 2, trace_flags: 1, start_time: 1700000000.5 } },
    });
    // Written before any launcher runs: JSON.stringify cannot write a bigint, so patch the text.
    const stored = (await h.client.get(sub.path)).data!.toString();
    const exact = stored.replace('"trace_id":1', `"trace_id": ${traceId}`).replace('"span_id":2', `"span_id": ${spanId}`);
    expect(exact).toContain(String(traceId));
    await h.client.set(sub.path, Buffer.from(exact));

    const launcher = await h.startLauncher('trace', CONFIG);
    const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000);
    expect(req.state).toBe('fulfilled');
    // Zuul's span_info comes back byte for byte (a parse-and-write would round the integers).
    const after = (await h.client.get(sub.path)).data!.toString();
    const rawData = (s: string): string => s.slice(s.indexOf('"requestor_data"'), s.indexOf('"provider"'));
    expect(rawData(after)).toBe(rawData(exact));
    // The node, used and returned, is deleted: a delete span with a child per machine state.
    const nodeId = req.nodes[0];
    await h.zuul.release(await h.zuul.accept(req));
    await waitUntil('the used node deleted', async () => !(await h.zk.getNode(nodeId)));

    await launcher.kernel.stop();
    const spans = launcher.kernel.tracing.finishedSpans();
    const hex = traceId.toString(16);
    const request = spans.find((s) => s.name === 'nodepool.request');
    expect(request).toBeDefined();
    expect(request!.spanContext().traceId).toBe(hex);
    expect(request!.parentSpanContext?.spanId).toBe(spanId.toString(16).padStart(16, '0'));
    expect(request!.attributes).toMatchObject({ 'nodepool.request': sub.id, 'nodepool.labels': 'small', 'nodepool.requestor': 'zuul-test', 'nodepool.tenant': 'tenant-one', 'nodepool.event_id': req.event_id });
    const launch = spans.find((s) => s.name === 'nodepool.launch');
    expect(launch?.spanContext().traceId).toBe(hex);
    expect(launch?.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    const steps = spans.filter((s) => s.name === 'nodepool.launch.step');
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const step of steps) {
      expect(step.spanContext().traceId).toBe(hex);
      expect(step.parentSpanContext?.spanId).toBe(launch!.spanContext().spanId);
    }
    expect(steps.map((s) => s.attributes['nodepool.step'])).toContain('nodescan');
    expect(spans.some((s) => s.name === 'nodepool.cleanup')).toBe(true);
    const del = spans.find((s) => s.name === 'nodepool.delete' && s.attributes['nodepool.node'] === nodeId);
    expect(del?.attributes['nodepool.delete.deleted']).toBe(true);
    const delSteps = spans.filter((s) => s.name === 'nodepool.delete.step' && s.parentSpanContext?.spanId === del!.spanContext().spanId);
    expect(delSteps.length).toBeGreaterThanOrEqual(1);
    expect(spans.filter((s) => s.name === 'nodepool.cleanup.task').length).toBeGreaterThan(3);
  });

  it('gives a request served from static nodes its span in the trace derived from event_id', async () => {
    const launcher = await h.startLauncher('static-trace',
      'labels:\n  - name: small\nproviders:\n  - name: static-t\n    driver: static\n    pools:\n      - name: main\n        nodes:\n          - name: 127.0.0.21\n            labels: [small]\n            host-key-checking: false\n');
    await waitUntil('the static node', async () => (await h.nodes((n) => n.state === 'ready')).length === 1);
    const eventId = '0123456789abcdef0123456789abcdef';
    const sub = await h.zuul.submit({ labels: ['small'], eventId });
    expect((await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000)).state).toBe('fulfilled');
    await launcher.kernel.stop();
    const span = launcher.kernel.tracing.finishedSpans().find((s) => s.name === 'nodepool.request' && s.attributes['nodepool.request'] === sub.id);
    expect(span?.attributes['nodepool.request.outcome']).toBe('fulfilled');
    expect(span?.spanContext().traceId).toBe(eventId);
  });
});
