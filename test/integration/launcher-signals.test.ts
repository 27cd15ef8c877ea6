/**
 * Nodepool's process interface on a real `bin/nodepool-launcher` process: `-l LOGCONFIG` (a
 * Python logging file config) sends the log to its file handler's file at its level, `-p
 * PIDFILE` holds the pid while it runs and is removed on exit, SIGUSR2 logs a dump of what the process waits on and
 * it keeps running, SIGUSR1 stops it gracefully (component records removed, exit 0) instead of
 * opening Node's debugger.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ZkClient } from '../../src/zk/zk-client';
import { waitUntil } from '../support/engine-harness';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(60000);

let server: ZooKeeperServer;
let client: ZkClient;
let tmp: string;

beforeAll(async () => {
  server = await startZooKeeper();
  client = new ZkClient({ hosts: server.connectString });
  await client.connect();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signals-'));
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('-l logging config, -p pid file, SIGUSR2 dump, SIGUSR1 graceful stop', async () => {
  const config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels: []\nproviders: []\n`);
  const pidfile = path.join(tmp, 'launcher.pid');
  const logFile = path.join(tmp, 'launcher.log');
  const logConfig = path.join(tmp, 'logging.conf');
  fs.writeFileSync(logConfig, `[loggers]\nkeys=root\n[handlers]\nkeys=f\n[logger_root]\nlevel=INFO\nhandlers=f\n[handler_f]\nclass=logging.handlers.WatchedFileHandler\nargs=('${logFile}',)\n`);
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/nodepool-launcher'), '-f', '-c', config, '-p', pidfile, '-l', logConfig, '--no-webapp'], {
    env: { ...process.env, NODEPOOL_TS_LOG_FORMAT: 'json', NODEPOOL_TS_TRACING_EXPORTER: 'none', NODEPOOL_TS_HOSTNAME: 'signals-test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d.toString()));
  child.stderr.on('data', (d) => (output += d.toString()));
  // The log goes to the handler's file (the console only gets what is not a log line).
  let log = '';
  const readLog = async (): Promise<string> => (log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitUntil('launcher running', async () => (await readLog()).includes('launcher running'), 30000);
    expect(output).not.toContain('launcher running');
    expect(fs.readFileSync(pidfile, 'utf8').trim()).toBe(String(child.pid));
    expect(await client.getChildren('/nodepool/components/launcher')).toHaveLength(1);

    child.kill('SIGUSR2');
    await waitUntil('a stack dump in the log', async () => (await readLog()).includes('"msg":"stack dump"'), 10000);
    const dump = JSON.parse(log.split('\n').find((l) => l.includes('"msg":"stack dump"')) as string) as Record<string, unknown>;
    expect(dump).toHaveProperty('handles');
    expect(dump).toHaveProperty('memory');
    expect(child.exitCode).toBeNull();

    child.kill('SIGUSR1');
    expect(await exited).toBe(0);
    await readLog();
    expect(log).toContain('received SIGUSR1, stopping');
    expect(output).not.toMatch(/Debugger listening/);
    expect(fs.existsSync(pidfile)).toBe(false);
    expect(await client.getChildren('/nodepool/components/launcher')).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
});
