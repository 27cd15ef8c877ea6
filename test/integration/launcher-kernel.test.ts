/**
 * Launcher kernels on a real ZooKeeper: two kernels side by side in one process (same plugin
 * folder, separate sessions, no shared state), a config with a bad provider still serving the
 * good one, and the `nodepool-launcher` process starting and stopping cleanly on signals.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLauncherKernel, type LauncherKernel } from '../../src/kernel/launcher-kernel';
import { NodepoolConfigSource } from '../../src/plugins/nodepool-config';
import { ProviderDriver } from '../../src/plugins/driver';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { ZkClient } from '../../src/zk/zk-client';
import { testSettings } from '../support/test-settings';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

const ROOT = path.resolve(__dirname, '../..');
let server: ZooKeeperServer;
let observer: ZkClient;
let tmp: string;

const STATIC_PROVIDER = (name: string, host: string): string => `
  - name: ${name}
    driver: static
    pools:
      - name: main
        nodes:
          - name: ${host}
            labels: [small]
            host-key-checking: false`;

function writeConfig(file: string, providers: string, zk = true): string {
  const full = path.join(tmp, file);
  const servers = zk ? `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\n` : '';
  fs.writeFileSync(full, `${servers}labels:\n  - name: small\nproviders:${providers}\n`);
  return full;
}

async function launcherComponents(): Promise<Array<{ name: string; body: Record<string, unknown> }>> {
  const dir = '/nodepool/components/launcher';
  if (!(await observer.exists(dir))) return [];
  const names = await observer.getChildren(dir);
  return Promise.all(
    names.map(async (name) => ({ name, body: JSON.parse((await observer.get(`${dir}/${name}`)).data!.toString()) })),
  );
}

beforeAll(async () => {
  server = await startZooKeeper();
  observer = new ZkClient({ hosts: server.connectString });
  await observer.connect();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-kernel-'));
});

afterAll(async () => {
  await observer?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('two kernels in one process', () => {
  let a: LauncherKernel;
  let b: LauncherKernel;

  afterEach(async () => {
    await a?.kernel.stop();
    await b?.kernel.stop();
  });

  it('load the same plugin folder, each with its own ZooKeeper session, services and registration', async () => {
    const configA = writeConfig('a.yaml', STATIC_PROVIDER('static-a', '127.0.0.1'));
    const configB = writeConfig('b.yaml', STATIC_PROVIDER('static-b', '127.0.0.2'));
    a = await createLauncherKernel(testSettings({ config: configA, hostname: 'kernel-a' }));
    b = await createLauncherKernel(testSettings({ config: configB, hostname: 'kernel-b' }));
    await Promise.all([a.kernel.start(), b.kernel.start()]);

    // Separate sessions and separate service instances.
    const zkA = a.kernel.container.get<ZooKeeper>(ZooKeeper);
    const zkB = b.kernel.container.get<ZooKeeper>(ZooKeeper);
    expect(zkA).not.toBe(zkB);
    expect(zkA.client.sessionId).toMatch(/^[0-9a-f]{16}$/);
    expect(zkA.client.sessionId).not.toEqual(zkB.client.sessionId);
    expect(a.kernel.drivers.names().sort()).toEqual(['metastatic', 'openstack', 'static']);
    expect(a.kernel.drivers.get('static')).not.toBe(b.kernel.drivers.get('static'));
    expect(a.kernel.container.getAll(ProviderDriver)).toEqual([]); // drivers live in plugin containers
    expect(a.kernel.metrics.registry).not.toBe(b.kernel.metrics.registry);

    // Each kernel has its own configuration.
    expect([...a.kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers.keys()]).toEqual(['static-a']);
    expect([...b.kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers.keys()]).toEqual(['static-b']);

    // Both registered a launcher component, ephemeral, owned by their own sessions.
    const comps = await launcherComponents();
    expect(comps.map((c) => c.body.hostname).sort()).toEqual(['kernel-a', 'kernel-b']);
    for (const c of comps) {
      expect(c.name).toMatch(new RegExp(`^${c.body.hostname}\\d{10}$`));
      expect(Object.keys(c.body)).toEqual(['hostname', 'kind', 'model_api', 'state', 'version']);
      expect(c.body).toMatchObject({ kind: 'launcher', state: 'running', model_api: 0 });
      const owner = (await observer.get(`/nodepool/components/launcher/${c.name}`)).stat.ephemeralOwner;
      const expected = c.body.hostname === 'kernel-a' ? zkA.client.sessionId : zkB.client.sessionId;
      expect(owner).toEqual(expected);
    }

    // Stopping A leaves B working.
    await a.kernel.stop();
    expect((await launcherComponents()).map((c) => c.body.hostname)).toEqual(['kernel-b']);
    expect(zkB.client.state).toBe('connected');
    await zkB.client.create('/b-still-works', Buffer.from('x'));
    expect((await observer.get('/b-still-works')).data!.toString()).toBe('x');
  });

  it('injects every kernel service into a plugin through the SDK tokens', async () => {
    const pluginDir = path.join(tmp, 'plugins', 'probe');
    fs.mkdirSync(pluginDir, { recursive: true });
    fs.writeFileSync(path.join(pluginDir, 'package.json'), JSON.stringify({ name: 'probe', 'nodepool-ts': { entry: 'index.js', drivers: [] } }));
    fs.writeFileSync(path.join(pluginDir, 'index.js'), `
      const sdk = require('@nodepool-ts/sdk');
      const tokens = { zk: sdk.ZooKeeper, settings: sdk.LauncherSettings, config: sdk.NodepoolConfigSource,
        logger: sdk.Logger, tracer: sdk.Tracer, metrics: sdk.Metrics };
      class Probe {
        constructor(...services) { this.name = 'probe'; this.services = Object.fromEntries(Object.keys(tokens).map((k, i) => [k, services[i]])); }
        async start() {
          const zk = this.services.zk;
          this.seen = { session: zk.client.sessionId, providers: [...this.services.config.current().providers.keys()] };
          this.services.metrics.counter('probe_starts_total', 'probe starts').inc();
          this.services.tracer.startSpan('probe.start').end();
        }
      }
      Object.values(tokens).forEach((t, i) => sdk.inject(t)(Probe, undefined, i));
      sdk.injectable()(Probe);
      module.exports = new sdk.ContainerModule(({ bind }) => {
        bind('probe').to(Probe).inSingletonScope();
        bind(sdk.LifecycleContribution).toService('probe');
      });`);
    const file = writeConfig('probe.yaml', STATIC_PROVIDER('static-probe', '127.0.0.9'));
    a = await createLauncherKernel(testSettings({ config: file, plugins: { dirs: [path.join(tmp, 'plugins')] } }));
    expect(a.kernel.pluginFailures).toEqual([]);
    await a.kernel.start();
    const probe = a.kernel.plugins[0].container.get<{ seen: { session: string; providers: string[] }; services: Record<string, unknown> }>('probe');
    expect(probe.seen.session).toBe(a.kernel.zookeeper!.client.sessionId);
    expect(probe.services.settings).toBe(a.kernel.settings);
    expect(probe.services.logger).toBe(a.kernel.logger);
    expect(await a.kernel.metrics.render()).toMatch(/probe_starts_total 1/);
    expect(a.kernel.tracing.finishedSpans().map((s) => s.name)).toContain('probe.start');
    // the static driver is not loaded from this folder, so the static provider is reported
    expect(a.configErrors.map((e) => e.message).join()).toMatch(/unknown driver "static"/);
  });

  it('a bad provider is reported with file and key path while the good one is served; an unknown key only warns', async () => {
    const bad = `
  - name: broken
    driver: static
    max-concurrency: lots
    pools: []
  - name: extra-key
    driver: static
    cloud: not-a-static-key
    pools: []` + STATIC_PROVIDER('static-good', '127.0.0.3');
    const file = writeConfig('mixed.yaml', bad);
    const stream = new PassThrough();
    let logged = '';
    stream.on('data', (d) => (logged += d.toString()));
    a = await createLauncherKernel(testSettings({ config: file, log: { level: 'warn' } }), { logStream: stream });
    await a.kernel.start();
    // Like Nodepool's launcher, which never validates the schema: a key only config-validate
    // rejects does not keep a provider from running; a value the provider cannot use does.
    expect([...a.kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers.keys()]).toEqual(['extra-key', 'static-good']);
    expect(a.configErrors.map((e) => e.path)).toEqual(['providers[0].max-concurrency', 'providers[1].cloud']);
    await new Promise((r) => setImmediate(r));
    expect(logged).toContain(`${file}: providers[0].max-concurrency: expected int, got str \\"lots\\"`);
    expect(logged).toContain(`${file}: providers[1].cloud: extra keys not allowed (ignored: the provider runs without it)`);
  });

  it('uses the launcher settings over nodepool.yaml for ZooKeeper, and reloads a changed file', async () => {
    const file = writeConfig('nozk.yaml', STATIC_PROVIDER('static-r', '127.0.0.4'), false);
    a = await createLauncherKernel(testSettings({ config: file, zookeeper: { hosts: server.connectString } }));
    await a.kernel.start();
    expect(a.reloadIfChanged()).toBeUndefined();
    const source = a.kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource);
    fs.writeFileSync(file, `labels:\n  - name: small\nproviders:${STATIC_PROVIDER('static-r2', '127.0.0.5')}\n`);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(a.reloadIfChanged()).toEqual([]);
    expect([...source.current().providers.keys()]).toEqual(['static-r2']);
  });
});

describe('nodepool-launcher process', () => {
  async function runUntilRegistered(args: string[], hostname: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ exit: Promise<number | null>; stderr: () => string; kill: (s: NodeJS.Signals) => void }> {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/nodepool-launcher'), '-f', ...args], {
      // Any free loopback port: the default 0.0.0.0:8005 may be taken on a shared machine.
      env: { ...process.env, NODEPOOL_TS_HOSTNAME: hostname, NODEPOOL_TS_LOG_FORMAT: 'json', NODEPOOL_TS_WEB_PORT: '0', NODEPOOL_TS_WEB_LISTEN_ADDRESS: '127.0.0.1', ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20000;
    // Registered, and done starting (the engine starts after the launcher component registers).
    while (!(await launcherComponents()).some((c) => c.body.hostname === hostname) || !err.includes('launcher running')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`launcher did not register: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { exit, stderr: () => err, kill: (s) => child.kill(s) };
  }

  it.each(['SIGTERM', 'SIGINT'] as const)('runs -c FILE in the foreground and stops cleanly on %s', async (signal) => {
    const file = writeConfig(`proc-${signal}.yaml`, STATIC_PROVIDER('static-p', '127.0.0.6'));
    const host = `proc-${signal.toLowerCase()}`;
    const run = await runUntilRegistered(['-c', file], host);
    expect(run.stderr()).toContain('launcher running');
    run.kill(signal);
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toContain('launcher stopped');
    expect((await launcherComponents()).some((c) => c.body.hostname === host)).toBe(false);
  });

  it('exports its spans over OTLP/HTTP to the configured collector', async () => {
    const received: Array<{ url: string; body: string }> = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    try {
      const { port } = collector.address() as AddressInfo;
      const file = writeConfig('otlp.yaml', STATIC_PROVIDER('static-o', '127.0.0.8'));
      const run = await runUntilRegistered(['-c', file, '--tracing-exporter', 'otlp', '--tracing-endpoint', `http://127.0.0.1:${port}/v1/traces`], 'proc-otlp');
      run.kill('SIGTERM');
      expect(await run.exit).toBe(0);
      const all = received.map((r) => r.body).join('\n');
      expect(received.every((r) => r.url === '/v1/traces')).toBe(true);
      for (const name of ['kernel.start zookeeper', 'kernel.start launcher-component', 'kernel.stop zookeeper']) {
        expect(all).toContain(name);
      }
      expect(all).toContain('proc-otlp'); // host.name resource attribute
    } finally {
      collector.close();
    }
  });

  it('says clearly when no ZooKeeper is configured', async () => {
    const file = writeConfig('none.yaml', STATIC_PROVIDER('static-n', '127.0.0.7'), false);
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/nodepool-launcher'), '-f', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toMatch(/no ZooKeeper configured: add zookeeper-servers to .*none\.yaml or set --zk-hosts/);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace for an operator error
  });
});
