/**
 * The web app wired into the `nodepool-launcher` process: nodepool.yaml `webapp:` gives the
 * address, `--web-port` overrides it, `--no-webapp` turns it off, `/ready` says OK once the
 * launcher runs, and the static nodes it registered are listed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/cli/local-zookeeper';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

const ROOT = path.resolve(__dirname, '../..');
let server: ZooKeeperServer;
let tmp: string;
let yamlPort: number;
let config: string;

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-web-'));
  yamlPort = await freePort();
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nwebapp:\n  port: ${yamlPort}\n  listen_address: 127.0.0.1\nlabels:\n  - name: small\nproviders:\n  - name: static-web\n    driver: static\n    pools:\n      - name: main\n        nodes:\n          - name: 127.0.0.9\n            labels: [small]\n            host-key-checking: false\n`);
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  exit: Promise<number | null>;
  log: () => string;
}

async function startLauncher(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/nodepool-launcher'), '-f', '-c', config, ...args], {
    env: { ...process.env, NODEPOOL_TS_LOG_FORMAT: 'json', NODEPOOL_TS_HOSTNAME: `web-${process.pid}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d.toString()));
  child.stderr!.on('data', (d) => (log += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20000;
  while (!log.includes('launcher running')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`launcher did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exit, log: () => log };
}

async function stop(run: Running): Promise<void> {
  run.child.kill('SIGTERM');
  expect(await run.exit).toBe(0);
}

async function getJson(port: number, p: string): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${port}${p}`, { headers: { Accept: 'application/json' } })).json();
}

describe('nodepool-launcher web app', () => {
  it('listens where nodepool.yaml says, answers /ready and lists the static node', async () => {
    const run = await startLauncher([]);
    try {
      const ready = await fetch(`http://127.0.0.1:${yamlPort}/ready`);
      expect([ready.status, await ready.text()]).toEqual([200, 'OK']);
      let rows: Record<string, unknown>[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        rows = (await getJson(yamlPort, '/node-list')) as Record<string, unknown>[];
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([expect.objectContaining({ provider: 'static-web', hostname: '127.0.0.9', state: 'ready', launcher: 'static driver' })]);
      expect(await getJson(yamlPort, '/label-list')).toEqual([{ label: 'small' }]);
    } finally {
      await stop(run);
    }
  }, 40000);

  it('--web-port overrides the file, and --no-webapp serves nothing', async () => {
    const flagPort = await freePort();
    const run = await startLauncher(['--web-port', String(flagPort)]);
    try {
      expect((await fetch(`http://127.0.0.1:${flagPort}/ready`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${yamlPort}/ready`)).rejects.toThrow();
    } finally {
      await stop(run);
    }
    const off = await startLauncher(['--no-webapp']);
    try {
      await expect(fetch(`http://127.0.0.1:${yamlPort}/ready`)).rejects.toThrow();
      expect(off.log()).not.toContain('web status API listening');
    } finally {
      await stop(off);
    }
  }, 60000);
});
