/**
 * Provider lifecycle against one real ZooKeeper (one file, so one server start):
 * - isolation (issue 16): a provider whose `start()` never ends and one whose `start()` throws a
 *   plain string hold up neither the healthy provider nor the engine's workers; both are reported
 *   (engine, `/metrics`, component record) and the failing one is retried until it runs;
 * - edits (issue 15): the new configuration starts beside the old copy, which finishes its
 *   launch (the node goes to the request it was built for) and then stops, deleting nothing;
 * - contracts (issue 16): the engine's launch defaults do not SSH-scan a driver's nodes unasked;
 * - health (issue 18): a launcher whose whole config was rejected runs no provider and `/ready`
 *   says so with 503 and the reason, as while ZooKeeper is away; `/health` answers 200 throughout.
 */
import { createLauncher } from '../../src/launcher/create-launcher';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { WebApp } from '../../src/web/web-app';
import { EngineHarness, FAST_ENGINE, TEST_PLUGINS, waitUntil } from '../support/engine-harness';
import { TcpProxy } from '../support/tcp-proxy';
import { REPO_PLUGINS, testSettings } from '../support/test-settings';

const h = new EngineHarness();

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

// The hanging provider comes first: starting providers one after the other, it froze the rest.
const CONFIG = `labels:
  - name: small
  - name: other
providers:
  - name: hung
    driver: hanging
    pools:
      - name: main
        labels:
          - name: other
  - name: flaky
    driver: throwing
    fail-starts: 2
    pools:
      - name: main
        labels:
          - name: other
  - name: fake-a
    driver: fake
    pools:
      - name: main
        labels:
          - name: small
`;

it('isolation: a hanging and a throwing provider are reported and retried; the healthy one and the workers serve meanwhile', async () => {
  const launcher = await h.startLauncher('iso', CONFIG, {
    providerStartTimeoutMs: 400, providerStopTimeoutMs: 200, providerRetryMs: 1000, providerStartWaitMs: 5000,
  });
  const { engine } = launcher;
  const state = (name: string): { state: string; error?: string; retryAt?: number } | undefined => engine.providerStates().find((p) => p.name === name);
  expect(state('fake-a')?.state).toBe('running');
  expect(state('hung')).toMatchObject({ state: 'failed', error: 'start() did not finish within 0.4 s' });
  expect(state('hung')?.retryAt).toBeGreaterThan(Date.now() - 1000);
  // The string thrown is the error shown (not "undefined"); it stays until a retry succeeds.
  expect(state('flaky')?.error).toBe('start() failed: cloud endpoint refused the login (attempt 1)');
  expect(engine.notReadyReason()).toBeUndefined();

  // The healthy provider serves, and the deleted-node worker runs: a used node goes away.
  const sub = await h.zuul.submit({ labels: ['small'] });
  const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000);
  expect(req.state).toBe('fulfilled');
  await h.zuul.release(await h.zuul.accept(req));
  await waitUntil('the used node deleted', async () => !(await h.zk.getNode(req.nodes[0])));

  // Retried with backoff: after two failures it starts.
  await waitUntil('flaky running after its retries', async () => state('flaky')?.state === 'running');
  expect(engine.pools.map((p) => p.pool.name && p.id.split('-PoolWorker.')[1].replace(/-[0-9a-f]{32}$/, '')).sort()).toEqual(['fake-a-main', 'flaky-main']);

  const metrics = await launcher.kernel.metrics.render();
  expect(metrics).toContain('nodepool_provider_state{provider="hung",driver="hanging",state="failed"} 1');
  expect(metrics).toContain('nodepool_provider_state{provider="fake-a",driver="fake",state="running"} 1');
  const [component] = await h.client.getChildren('/nodepool/components/launcher');
  const record = await waitUntil('the component record shows flaky running', async () => {
    const body = JSON.parse((await h.client.get(`/nodepool/components/launcher/${component}`)).data!.toString()) as { nodepool_ts_providers?: Array<{ name: string; state: string }> };
    return body.nodepool_ts_providers?.find((p) => p.name === 'flaky')?.state === 'running' ? body : undefined;
  });
  expect(record.nodepool_ts_providers).toContainEqual(expect.objectContaining({ name: 'hung', driver: 'hanging', state: expect.stringMatching(/^(failed|starting)$/) }));

  // A provider whose stop() hangs too does not hold up the launcher's stop.
  await h.stopLaunchers();
}, 40000);

const config = (maxConcurrency: number): string => `labels:
  - name: small
providers:
  - name: fake-a
    driver: fake
    max-concurrency: ${maxConcurrency}
    boot-ms: 1500
    pools:
      - name: main
        labels:
          - name: small
`;

it('edit: an edited provider finishes its launch in flight, hands the node to the request, deletes nothing, then stops', async () => {
  const launcher = await h.startLauncher('edit', config(10));
  const old = launcher.engine.runtimes.get('fake-a')!.provider as FakeProvider;
  const sub = await h.zuul.submit({ labels: ['small'] });
  const building = await waitUntil('a building node', async () => (await h.nodes((n) => n.state === 'building'))[0]);

  h.writeConfig('edit', config(20));
  await waitUntil('the new copy running beside the draining one', async () => {
    const states = launcher.engine.providerStates();
    return states.some((p) => p.state === 'draining') && states.some((p) => p.state === 'running');
  });
  expect(launcher.engine.runtimes.get('fake-a')!.provider).not.toBe(old);

  const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000);
  expect(req.state).toBe('fulfilled');
  expect(req.nodes).toEqual([building.id]);
  expect(await h.zk.getNode(building.id as string)).toMatchObject({ state: 'ready', allocated_to: sub.id });
  expect(old.cloud.deletes).toBe(0);
  expect([...old.cloud.instances.keys()]).toEqual([building.external_id ?? expect.any(String)]);
  await waitUntil('the old copy stopped', async () => !old.running);
  expect(launcher.engine.providerStates().map((p) => p.state)).toEqual(['running']);
}, 30000);

it('contracts: a driver without launchSettings gets its nodes without an SSH scan of port 22', async () => {
  await h.startLauncher('minimal', 'labels:\n  - name: small\nproviders:\n  - name: min\n    driver: minimal\n    pools:\n      - name: main\n        labels:\n          - name: small\n');
  // A scan of 192.0.2.1:22 would wait out the 60 s boot timeout, three times.
  const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 10000);
  expect(req.state).toBe('fulfilled');
  expect(await h.zk.getNode(req.nodes[0])).toMatchObject({ state: 'ready', interface_ip: '192.0.2.1', host_keys: [], connection_type: 'ssh' });
}, 20000);

it('health: /ready is 503 with the reason while no provider runs or ZooKeeper is away; /health stays 200', async () => {
  // The only provider names a driver no plugin provides: rejected, the launcher runs without it.
  const file = h.writeConfig('health', 'labels:\n  - name: small\nproviders:\n  - name: p\n    driver: nosuch\n    pools: []\n');
  let web: WebApp | undefined;
  // Through a proxy, so ZooKeeper can go away for this launcher alone.
  const proxy = await TcpProxy.start(h.server.host, h.server.port);
  const l = await createLauncher(testSettings({ config: file, hostname: 'health', plugins: { dirs: [REPO_PLUGINS, TEST_PLUGINS] }, zookeeper: { hosts: proxy.address }, stopTimeout: 1 }), {
    engine: FAST_ENGINE,
    coreServices: (c) => [(web = new WebApp(c, { listen: { host: '127.0.0.1', port: 0 }, readiness: () => l.engine.notReadyReason() }))],
  });
  h.launchers.push(l);
  expect(l.configErrors.length).toBeGreaterThan(0);
  await l.kernel.start();
  web!.setReady(true);
  const base = `http://127.0.0.1:${web!.address()!.port}`;
  const get = async (p: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${base}${p}`);
    return { status: res.status, body: await res.text() };
  };

  expect(await get('/ready')).toEqual({ status: 503, body: 'Service Unavailable: no provider configured' });
  expect(await get('/health')).toEqual({ status: 200, body: 'OK' });

  proxy.dropConnections();
  await proxy.close();
  const away = await waitUntil('/ready to report ZooKeeper away', async () => {
    const r = await get('/ready');
    return r.body.includes('ZooKeeper') ? r : undefined;
  });
  expect(away.status).toBe(503);
  expect(await get('/health')).toEqual({ status: 200, body: 'OK' });
}, 40000);
