/**
 * `nodepool request` against a real ZooKeeper and a running launcher, and against a ZooKeeper
 * that cannot be reached.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { freePort } from '../../src/cli/local-zookeeper';
import { testSettings } from '../support/test-settings';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let launcher: Launcher;
let tmp: string;
let config: string;

function io(): CliIo & { out: string; err: string } {
  const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
  return r;
}

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-request-'));
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: small\nproviders:\n  - name: static-cli\n    driver: static\n    pools:\n      - name: main\n        nodes:\n          - name: 127.0.0.1\n            labels: [small]\n            host-key-checking: false\n`);
  launcher = await createLauncher(testSettings({ config }), { engine: { poolPollIntervalMs: 200, deletedNodeIntervalMs: 200 } });
  await launcher.kernel.start();
});

afterAll(async () => {
  await launcher?.kernel.stop();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('nodepool request', () => {
  it('submits a request and, with --wait, prints the node it got', async () => {
    const r = io();
    const code = await nodepoolMain(['-c', config, 'request', 'small', '--wait', '--timeout', '20'], r);
    expect(r.err).toBe('');
    expect(code).toBe(0);
    expect(r.out).toMatch(/^request 100-\d{10} submitted for small\nrequest 100-\d{10} fulfilled:\n {2}\d{10} {2}small {2}127\.0\.0\.1 {2}ready\n$/);
  });

  it('reports a failed request with the pools that declined it and exits 1', async () => {
    const r = io();
    const code = await nodepoolMain(['-c', config, 'request', 'no-such-label', '--wait', '--timeout', '20'], r);
    expect(code).toBe(1);
    expect(r.out).toMatch(/failed \(declined by: .*PoolWorker\.static-cli-main-[0-9a-f]{32}\)/);
  });

  it('says in one line that ZooKeeper cannot be reached, without a stack trace', async () => {
    const port = await freePort();
    const bad = path.join(tmp, 'unreachable.yaml');
    fs.writeFileSync(bad, `zookeeper-servers:\n  - host: 127.0.0.1\n    port: ${port}\nlabels: []\n`);
    const r = io();
    expect(await nodepoolMain(['-c', bad, 'request', 'small'], r)).toBe(1);
    expect(r.err).toMatch(new RegExp(`^nodepool: cannot connect to ZooKeeper at 127\\.0\\.0\\.1:${port}: .+\\n$`));
  });
});
