/**
 * `bin/nodepool-launcher` as an operator starts it: Nodepool's daemon mode (no `-d`/`-f`: the
 * command returns once the detached launcher wrote its pid file; a second start on a live pid
 * file is refused), the quickstart's next steps (the printed request command works as pasted,
 * the dashboard URL answers), and a taken web port named with the flag that fixes it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { nodepoolMain } from '../../src/cli/nodepool-cli';
import { waitUntil } from '../support/engine-harness';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(60000);

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/nodepool-launcher');

let server: ZooKeeperServer;
let tmp: string;
let config: string;

interface Proc {
  code: Promise<number | null>;
  out: () => string;
  kill: (s: NodeJS.Signals) => void;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NODEPOOL_TS_LOG_FORMAT: 'json', NODEPOOL_TS_TRACING_EXPORTER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => (out += d.toString()));
  return { code: new Promise((resolve) => child.on('close', (c) => resolve(c))), out: () => out, kill: (s) => child.kill(s) };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-launcher-'));
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels: []\nproviders: []\n`);
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('without -d or -f it detaches: exits 0 once the daemon wrote its pid file; a live pid file stops a second start', async () => {
  const pidfile = path.join(tmp, 'daemon.pid');
  const logFile = path.join(tmp, 'daemon.log');
  const logConfig = path.join(tmp, 'daemon-logging.conf');
  fs.writeFileSync(logConfig, `[loggers]\nkeys=root\n[handlers]\nkeys=f\n[logger_root]\nlevel=INFO\nhandlers=f\n[handler_f]\nclass=logging.FileHandler\nargs=('${logFile}',)\n`);
  const args = ['-c', config, '-p', pidfile, '-l', logConfig, '--no-webapp', '--hostname', 'daemon-test'];
  const parent = run(args);
  expect(await parent.code).toBe(0);
  const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
  try {
    expect(alive(pid)).toBe(true);
    await waitUntil('daemon running', async () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('launcher running'), 30000);
    const second = run(args);
    expect(await second.code).toBe(1);
    expect(second.out()).toBe(`nodepool-launcher: the pid file ${pidfile} names process ${pid}, which is running (another launcher?)\n`);
    process.kill(pid, 'SIGTERM');
    await waitUntil('daemon stopped, pid file removed', async () => !alive(pid) && !fs.existsSync(pidfile), 30000);
    expect(fs.readFileSync(logFile, 'utf8')).toContain('launcher stopped');
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('the quickstart prints a request command that works as pasted, the dashboard URL and how to stop', async () => {
  const qs = run(['--quickstart', '--zk-hosts', server.connectString, '--web-port', '0', '--hostname', 'quickstart-test']);
  try {
    await waitUntil('next steps printed', async () => {
      if (qs.out().includes('nodepool-launcher: ')) throw new Error(qs.out());
      return qs.out().includes('  Stop: Ctrl-C here.');
    }, 30000);
    const command = /^ {4}(NODEPOOL_TS_ZK_HOSTS=(\S+) (\S+) .*)$/m.exec(qs.out());
    expect(command).not.toBeNull();
    const [, line, hosts, bin] = command!;
    expect(hosts).toBe(server.connectString);
    expect(path.resolve(ROOT, bin)).toBe(path.join(ROOT, 'bin/nodepool'));
    expect(line).toMatch(/ -c config\/quickstart\.yaml request small --wait$/);
    // Run it as pasted in the repository (relative paths), asking for the node back at once.
    const cwd = process.cwd();
    process.chdir(ROOT);
    let out = '';
    let code: number;
    try {
      const argv = line.split(' ').slice(2);
      code = await nodepoolMain([...argv, '--hold-for', '0'], { stdout: (t) => void (out += t), stderr: (t) => void (out += t), env: { NODEPOOL_TS_ZK_HOSTS: hosts }, interrupt: new AbortController().signal });
    } finally {
      process.chdir(cwd);
    }
    expect(out).toMatch(/fulfilled:\n.*in-use\n/);
    expect(code).toBe(0);
    const url = /^ {2}Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(qs.out());
    expect(url).not.toBeNull();
    expect((await fetch(`${url![1]}ready`)).status).toBe(200);
  } finally {
    qs.kill('SIGTERM');
    await qs.code;
  }
});

test('a web port in use is reported with the flag that picks another', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const { port } = blocker.address() as AddressInfo;
    const launcher = run(['-f', '-c', config, '--web-listen-address', '127.0.0.1', '--web-port', String(port), '--hostname', 'port-test']);
    expect(await launcher.code).toBe(1);
    expect(launcher.out()).toContain(`nodepool-launcher: web status API cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
    expect(launcher.out()).toContain('pick another with --web-port PORT');
  } finally {
    blocker.close();
  }
});
