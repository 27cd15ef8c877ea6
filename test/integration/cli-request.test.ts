/**
 * `nodepool request` and `nodepool return` against a real ZooKeeper and a running launcher with
 * one static node (so a node that is not given back shows at once), and against a ZooKeeper
 * that cannot be reached.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import { quietLogger } from '../../src/cli/cli-zk';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { freePort } from '../../src/cli/local-zookeeper';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { waitUntil } from '../support/engine-harness';
import { testSettings } from '../support/test-settings';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let launcher: Launcher;
let client: ZkClient;
let zk: NodepoolZk;
let tmp: string;
let config: string;

type Run = { code: number; out: string; err: string };

async function cli(args: string[], interrupt = new AbortController().signal): Promise<Run> {
  const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, interrupt, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
  const code = await nodepoolMain(['-c', config, ...args], r as CliIo);
  return { code, out: r.out, err: r.err };
}

/** The static node, once it is ready and allocated to nobody (registered again after a return). */
const freeNode = (): Promise<boolean> => zk.getNodes((n) => n.state === 'ready' && !n.allocated_to).then((n) => n.length === 1);

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-request-'));
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: small\nproviders:\n  - name: static-cli\n    driver: static\n    pools:\n      - name: main\n        nodes:\n          - name: 127.0.0.1\n            labels: [small]\n            host-key-checking: false\n`);
  launcher = await createLauncher(testSettings({ config }), { engine: { poolPollIntervalMs: 200, deletedNodeIntervalMs: 200 } });
  await launcher.kernel.start();
  client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await client.connect();
  zk = new NodepoolZk(client, quietLogger);
});

afterAll(async () => {
  await client?.close();
  await launcher?.kernel.stop();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('nodepool request', () => {
  it('--wait takes the node (in-use), holds it, then returns it and deletes the request; so it can be asked for again', async () => {
    await waitUntil('static node registered', freeNode);
    for (let i = 0; i < 2; i++) {
      const r = await cli(['request', 'small', '--wait', '--timeout', '20', '--hold-for', '0']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^request 100-\d{10} submitted for small\nrequest 100-\d{10} fulfilled:\n {2}(\d{10}) {2}small {2}127\.0\.0\.1 {2}in-use\nholding the node until 0 s have passed \(or Ctrl-C\)\nreturned \d{10} \(state used\)\n$/);
      expect(await zk.getNodeRequestIds()).toEqual([]);
    }
  });

  it('deletes a request that timed out, so it takes no node later', async () => {
    await waitUntil('static node free again', freeNode);
    const holder = new AbortController();
    const held = cli(['request', 'small', '--wait', '--timeout', '20'], holder.signal);
    await waitUntil('node in use', () => zk.getNodes((n) => n.state === 'in-use').then((n) => n.length === 1));
    const late = await cli(['request', 'small', '--wait', '--timeout', '0.5']);
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/^nodepool: request 100-\d{10} was not fulfilled within 0\.5 s; it was deleted\n$/);
    expect(await zk.getNodeRequestIds()).toEqual([]);
    holder.abort(); // Ctrl-C of the holder: its node goes back
    const first = await held;
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/holding the node until Ctrl-C\nreturned \d{10} \(state used\)\n$/);
    await waitUntil('node free again and nobody takes it', freeNode);
    expect(await zk.getNodeRequestIds()).toEqual([]);
  });

  it('reports a failed request with the pools that declined it, deletes it and exits 1', async () => {
    const r = await cli(['request', 'no-such-label', '--wait', '--timeout', '20']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/failed \(declined by: .*PoolWorker\.static-cli-main-[0-9a-f]{32}\); it was deleted/);
    expect(await zk.getNodeRequestIds()).toEqual([]);
  });

  it('says in one line that ZooKeeper cannot be reached, without a stack trace', async () => {
    const port = await freePort();
    const bad = path.join(tmp, 'unreachable.yaml');
    fs.writeFileSync(bad, `zookeeper-servers:\n  - host: 127.0.0.1\n    port: ${port}\nlabels: []\n`);
    const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
    expect(await nodepoolMain(['-c', bad, 'request', 'small'], r)).toBe(1);
    expect(r.err).toMatch(new RegExp(`^nodepool: cannot connect to ZooKeeper at 127\\.0\\.0\\.1:${port}: .+\\n$`));
  });
});

describe('nodepool return', () => {
  it('gives back a node, then deletes a request left behind (without --wait)', async () => {
    await waitUntil('static node free again', freeNode);
    const submitted = await cli(['request', 'small']);
    expect(submitted.code).toBe(0);
    const id = /request (100-\d{10}) submitted/.exec(submitted.out)![1];
    expect(submitted.out).toContain(`its nodes stay allocated to it until: nodepool return ${id}\n`);
    const fulfilled = await zk.waitForNodeRequest(id, ['fulfilled'], 20_000);
    const nodeId = fulfilled.nodes[0];

    expect(await cli(['return', nodeId])).toEqual({ code: 0, out: `Node ${nodeId} returned (state used)\n`, err: '' });
    const request = await cli(['return', id]);
    expect(request).toEqual({ code: 0, out: `Request ${id} deleted; no node had been handed out\n`, err: '' });
    expect(await zk.getNodeRequest(id)).toBeUndefined();
    expect((await cli(['return', id])).out).toBe(`Request ${id} not found\n`);
    await waitUntil('node free again', freeNode);
  });

  it('returns the nodes of a fulfilled request left behind', async () => {
    const id = /request (100-\d{10})/.exec((await cli(['request', 'small'])).out)![1];
    const nodeId = (await zk.waitForNodeRequest(id, ['fulfilled'], 20_000)).nodes[0];
    const r = await cli(['return', id]);
    expect(r).toEqual({ code: 0, out: `Request ${id} deleted; returned ${nodeId} (state used)\n`, err: '' });
    expect(await zk.getNodeRequest(id)).toBeUndefined();
    await waitUntil('node free again', freeNode);
  });
});
