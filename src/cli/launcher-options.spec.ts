import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launcherMain, type LauncherIo } from './launcher-main';

function io(): LauncherIo & { out: string; err: string } {
  const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
  return r;
}

describe('nodepool-launcher command line', () => {
  it('refuses unknown flags, flags without their value and stray arguments (exit 2)', async () => {
    const cases: [string[], string][] = [
      [['--bogus'], "nodepool-launcher: error: unknown option '--bogus'\n"],
      [['--zk-hosts'], "nodepool-launcher: error: option '--zk-hosts <value>' argument missing\n"],
      [['--zk-hosts', '--log-level', 'debug'], "nodepool-launcher: error: option '--zk-hosts <value>' argument '--log-level' is invalid. --zk-hosts expects a value, got the flag --log-level\n"],
      [['-f', 'extra'], 'nodepool-launcher: error: too many arguments. Expected 0 arguments but got 1.\n'],
    ];
    for (const [args, message] of cases) {
      const r = io();
      expect([args, await launcherMain(args, r)]).toEqual([args, 2]);
      expect(r.err).toBe(message);
    }
  });

  it('--help lists every flag that works, Nodepool\'s and the launcher settings', async () => {
    const r = io();
    expect(await launcherMain(['--help'], r)).toBe(0);
    for (const flag of ['-c, --config', '-s, --secure', '-p, --pidfile', '-l, --logconfig', '-d, --debug', '-f, --foreground', '--no-webapp', '--quickstart',
      '--settings', '--web-port', '--web-listen-address', '--statsd-host', '--statsd-port', '--statsd-prefix', '--hostname', '--zk-hosts', '--zk-chroot',
      '--zk-session-timeout', '--zk-tls-cert', '--zk-tls-key', '--zk-tls-ca', '--plugin-dirs', '--tracing-exporter', '--tracing-endpoint', '--log-level', '--log-format']) {
      expect(r.out).toMatch(new RegExp(`^  ${flag.replace(/[-]/g, '\\-')}\\b`, 'm'));
    }
  });

  it('passes a bad settings value on with its flag named (exit 1)', async () => {
    const r = io();
    expect(await launcherMain(['-f', '--web-port', 'abc'], r)).toBe(1);
    expect(r.err).toMatch(/web\.port \(from flag --web-port\): /);
  });

  it('reads --settings FILE, naming the file of a bad value', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-options-'));
    try {
      const file = path.join(dir, 'settings.yaml');
      fs.writeFileSync(file, 'web:\n  port: 70000\n');
      const r = io();
      expect(await launcherMain(['-f', '--settings', file], r)).toBe(1);
      expect(r.err).toContain(`web.port (from file ${file}): must be a port number`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
