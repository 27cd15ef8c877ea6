/**
 * Issue 8 part 6, end to end with real processes: a `nodepool-launcher` and the `nodepool` CLI
 * talk to ZooKeeper over mutual TLS only (test CA; the secure file carries `zookeeper-tls`),
 * serve a request from an OpenStack simulator provider, and no secret (clouds.yaml password and
 * application credential secret, Keystone tokens, the TLS private key, secure-file env vars)
 * appears in logs, console spans, the web API or CLI output. The web API refuses writes and
 * listens only where configured. Bad TLS material stops the launcher with one clear line; a key
 * readable by others is warned about.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/cli/local-zookeeper';
import { writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { OpenStackSimulator } from '../support/openstack-simulator/openstack-simulator';
import { generateTestCerts, type TestCerts } from '../support/tls-certs';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(120000);

const ROOT = path.resolve(__dirname, '../..');
const APP_SECRET = 'appcred-Secret-7f3e9c1d';
const ENV_SECRET = 'dib-env-Secret-42b8a0';
let certs: TestCerts;
let zk: ZooKeeperServer;
let sim: OpenStackSimulator;
let tmp: string;
let cloudsYaml: string;
let webPort: number;

beforeAll(async () => {
  certs = generateTestCerts();
  zk = await startZooKeeper({ tls: { serverKeyAndCert: certs.serverKeyAndCert, ca: certs.ca } });
  sim = await new OpenStackSimulator({ buildMs: 100, deleteMs: 50, appCredential: { id: 'appcred-id', secret: APP_SECRET } }).start();
  cloudsYaml = writeCloudsYaml(sim, { appCredential: { id: 'appcred-id', secret: APP_SECRET } });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'security-'));
  webPort = await freePort();
});

afterAll(async () => {
  await sim?.stop();
  await zk?.stop();
  certs?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function provider(name: string, cloud: string, label: string): string {
  return `  - name: ${name}
    driver: openstack
    cloud: ${cloud}
    region-name: RegionOne
    rate: 0
    cloud-images:
      - name: ubuntu
        image-name: ubuntu-noble
        username: ubuntu
    pools:
      - name: main
        max-servers: 5
        networks: [private]
        host-key-checking: false
        labels:
          - {name: ${label}, cloud-image: ubuntu, min-ram: 1024}
`;
}

/** nodepool.yaml (only the secure port; no TLS settings) and the secure file with the TLS files. */
function writeConfigs(tls: { cert: string; key: string; ca: string }): { config: string; secure: string } {
  const config = path.join(tmp, 'nodepool.yaml');
  const secure = path.join(tmp, 'secure.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: 127.0.0.1\n    port: ${zk.securePort}\nwebapp:\n  port: ${webPort}\n  listen_address: 127.0.0.1\nlabels:\n  - name: small\n  - name: appcred-small\ndiskimages:\n  - name: secret-image\nproviders:\n${provider('sim-password', 'sim', 'small')}${provider('sim-appcred', 'sim-appcred', 'appcred-small')}`);
  fs.writeFileSync(secure, `zookeeper-tls:\n  cert: ${tls.cert}\n  key: ${tls.key}\n  ca: ${tls.ca}\ndiskimages:\n  - name: secret-image\n    env-vars:\n      DIB_SECRET: ${ENV_SECRET}\n`);
  return { config, secure };
}

interface Running {
  child: ChildProcess;
  exit: Promise<number | null>;
  output: () => string;
}

function startLauncher(files: { config: string; secure: string }, extraEnv: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/nodepool-launcher'), '-f', '-c', files.config, '-s', files.secure], {
    env: {
      ...process.env, OS_CLIENT_CONFIG_FILE: cloudsYaml, NODEPOOL_TS_LOG_FORMAT: 'json', NODEPOOL_TS_LOG_LEVEL: 'debug',
      NODEPOOL_TS_TRACING_EXPORTER: 'console', NODEPOOL_TS_HOSTNAME: `security-${process.pid}`, ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, output: () => out };
}

async function waitFor(run: Running, text: string, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (Date.now() > end || run.child.exitCode !== null) throw new Error(`no "${text}" from the launcher:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cli(files: { config: string; secure: string }, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/nodepool'), '-c', files.config, '-s', files.secure, ...args], { env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloudsYaml }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: stdout + stderr });
    });
  });
}

async function http(method: string, p: string, port = webPort, host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${host}:${port}${p}`, { method, headers: { Accept: p.endsWith('.json') ? 'application/json' : 'text/plain' } });
  return { status: res.status, body: await res.text() };
}

test('launcher, CLI and web app over mutual TLS: a request is served and no secret shows anywhere', async () => {
  // A key readable by the group must be warned about, not refused.
  fs.chmodSync(certs.clientKey, 0o640);
  const files = writeConfigs({ cert: certs.clientCert, key: certs.clientKey, ca: certs.ca });
  const run = startLauncher(files);
  const seen: string[] = [];
  try {
    await waitFor(run, 'launcher running');
    expect(run.output()).toMatch(/ZooKeeper TLS key file .* is readable by group or others \(mode 0640\)/);
    expect(run.output()).toMatch(/"tls":true/);

    // The CLI over TLS: submit (through the secure port only), then every listing. Without
    // --wait (which would hold the nodes until Ctrl-C) the requests stay and keep their nodes.
    // One request per provider (one request is served by one pool).
    for (const req of await Promise.all(['small', 'appcred-small'].map((l) => cli(files, ['request', l])))) {
      seen.push(req.out);
      expect([req.code, req.out]).toEqual([0, expect.stringMatching(/submitted/)]);
    }
    for (let i = 0; ; i++) {
      const requests = JSON.parse((await http('GET', '/request-list.json')).body) as Array<{ state: string }>;
      if (requests.length === 2 && requests.every((r) => r.state === 'fulfilled')) break;
      if (i > 600) throw new Error(`requests not fulfilled: ${JSON.stringify(requests)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const args of [['list'], ['list', '--detail'], ['list', '--json'], ['request-list', '--json'], ['label-list'], ['info', 'sim-password'], ['info', 'sim-appcred'], ['config-validate']]) {
      const r = await cli(files, args);
      seen.push(r.out);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 0]);
    }
    expect(seen.join('\n')).toContain('sim-appcred');

    // The web app: every listing, then writes refused and nothing changed.
    const before = await http('GET', '/node-list.json');
    expect(before.status).toBe(200);
    expect(JSON.parse(before.body)).toHaveLength(2);
    for (const p of ['/ready', '/node-list', '/request-list', '/request-list.json', '/label-list.json', '/metrics', '/image-list', '/launcher-list.json', '/provider-list.json']) {
      const r = await http('GET', p);
      expect([p, r.status]).toEqual([p, 200]);
      seen.push(r.body);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const p of ['/node-list', '/request-list', '/ready', '/nodes/0000000000']) {
        expect([method, p, (await http(method, p)).status]).toEqual([method, p, 405]);
      }
    }
    expect(JSON.parse((await http('GET', '/node-list.json')).body)).toEqual(JSON.parse(before.body).map((n: Record<string, unknown>) => ({ ...n, age: expect.anything() })));
    // Bound to 127.0.0.1 as configured: the same port on another loopback address is closed.
    await expect(new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.2', port: webPort }, () => (s.destroy(), resolve('connected')));
      s.on('error', reject);
    })).rejects.toThrow(/ECONNREFUSED/);

    // Both providers authenticated (password and application credential) and used tokens.
    const tokens = [...new Set(sim.requests.map((r) => r.token).filter((t): t is string => t !== null))];
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    seen.push(run.output());
    // Spans went to the console exporter, so they are part of the output searched.
    expect(run.output()).toMatch(/nodepool\.launch/);

    const everything = seen.join('\n');
    const keyBody = fs.readFileSync(certs.clientKey, 'utf8').split('\n').filter((l) => l.length > 40);
    const secrets: Record<string, string> = { password: sim.password, 'application credential secret': APP_SECRET, 'secure-file env var': ENV_SECRET };
    tokens.forEach((t, i) => (secrets[`token ${i}`] = t));
    keyBody.forEach((l, i) => (secrets[`TLS key line ${i}`] = l));
    const leaked = Object.entries(secrets).filter(([, value]) => everything.includes(value)).map(([what]) => what);
    expect(leaked).toEqual([]);
    // The same secrets in the clouds.yaml exist: the search looked for real values.
    expect(fs.readFileSync(cloudsYaml, 'utf8')).toContain(APP_SECRET);
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    fs.chmodSync(certs.clientKey, 0o600);
  }
});

describe('bad TLS material stops the launcher with one clear line', () => {
  const cases: Array<[string, () => { cert: string; key: string; ca: string }, RegExp]> = [
    ['a missing client certificate file', () => ({ cert: path.join(tmp, 'missing.pem'), key: certs.clientKey, ca: certs.ca }), /cannot read ZooKeeper TLS cert file .*missing\.pem/],
    ['a CA file that is not a certificate', () => (fs.writeFileSync(path.join(tmp, 'junk-ca.pem'), 'not a certificate\n'), { cert: certs.clientCert, key: certs.clientKey, ca: path.join(tmp, 'junk-ca.pem') }), /invalid ZooKeeper TLS ca .*junk-ca\.pem/],
    ['a key that does not belong to the certificate', () => ({ cert: certs.clientCert, key: certs.serverKey, ca: certs.ca }), /invalid ZooKeeper TLS key .*server\.key for cert .*client\.pem/],
    ['a certificate file holding garbage', () => (fs.writeFileSync(path.join(tmp, 'junk-cert.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), { cert: path.join(tmp, 'junk-cert.pem'), key: certs.clientKey, ca: certs.ca }), /invalid ZooKeeper TLS cert .*junk-cert\.pem/],
  ];
  test.each(cases)('%s', async (_name, tls, message) => {
    const files = writeConfigs(tls());
    const run = startLauncher(files);
    expect(await run.exit).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(message)]);
    expect(lines[0]).toMatch(/^nodepool-launcher: /);
    // The CLI refuses the same material with one line too.
    const r = await cli(files, ['list']);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});
