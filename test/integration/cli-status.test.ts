/**
 * `nodepool list / request-list / label-list / info / hold / delete / erase` against a real
 * ZooKeeper holding records written with NodepoolZk; output compared with the columns and table
 * style of the captured Python Nodepool samples.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import { freePort } from '../../src/cli/local-zookeeper';
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { quietLogger } from '../../src/cli/cli-zk';
import { SAMPLES_DIR } from '../support/spec-samples';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let client: ZkClient;
let zk: NodepoolZk;
let tmp: string;
let config: string;

const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');

function io(answer = ''): CliIo & { out: string; err: string; prompts: string[] } {
  const r = {
    out: '', err: '', prompts: [] as string[], env: {} as NodeJS.ProcessEnv,
    stdout: (t: string) => void (r.out += t),
    stderr: (t: string) => void (r.err += t),
    ask: async (prompt: string) => {
      r.prompts.push(prompt);
      return answer;
    },
  };
  return r;
}

async function run(args: string[], answer?: string): Promise<{ code: number; out: string; err: string; prompts: string[] }> {
  const r = io(answer);
  const code = await nodepoolMain(['-c', config, ...args], r);
  return { code, out: r.out, err: r.err, prompts: r.prompts };
}

/** Header cells and body rows of a PrettyTable in `text` (the first table found). */
function table(text: string): { headers: string[]; rows: string[][]; lines: string[] } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('+'));
  const end = lines.findIndex((l, i) => i > start + 2 && l.startsWith('+'));
  const block = lines.slice(start, end + 1);
  const cells = (l: string): string[] => l.slice(2, -2).split(' | ').map((c) => c.trim());
  return { headers: cells(block[1]), rows: block.slice(3, -1).map(cells), lines: block };
}

async function makeNode(fields: Partial<Node>): Promise<Node> {
  const node = new Node();
  Object.assign(node, { type: ['small'], provider: 'static-a', pool: 'main', ...fields });
  node.state = (fields.state as Node['state']) ?? 'ready';
  return zk.createNode(node);
}

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-status-'));
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: small\nproviders: []\n`);
  client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await client.connect();
  zk = new NodepoolZk(client, quietLogger);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await client.deleteRecursive('/nodepool');
});

describe('nodepool list', () => {
  it('prints the sample columns, one row per node, with the live lock state', async () => {
    const a = await makeNode({ external_id: 'srv-a', public_ipv4: '10.0.0.1', public_ipv6: '::1' });
    const b = await makeNode({ type: ['small', 'extra'], state: 'in-use' });
    const locked = await zk.getNode(b.id as string) as Node;
    await zk.lockNode(locked);
    try {
      const { code, out, err } = await run(['list']);
      expect([code, err]).toEqual([0, '']);
      const t = table(out);
      expect(t.headers).toEqual(table(sample('nodepool-list.txt')).headers);
      expect(t.rows.map((r) => r[0])).toEqual([a.id, b.id]);
      expect(t.rows[0]).toEqual([a.id, 'static-a', 'small', 'srv-a', '10.0.0.1', '::1', 'ready', expect.stringMatching(/^00:00:00:0\d$/), 'unlocked']);
      expect(t.rows[1].slice(2, 3).concat(t.rows[1].slice(6, 7), t.rows[1].slice(8))).toEqual(['small,extra', 'in-use', 'locked']);
      expect(out).toBe(`${t.lines.join('\n')}\n`);
      for (const line of t.lines) expect(line).toHaveLength(t.lines[0].length);
    } finally {
      await zk.unlockNode(locked);
    }
  });

  it('--detail adds the detail columns; dicts print as Python repr, bad ports as redacted', async () => {
    const n = await makeNode({ hostname: 'h1', comment: 'note', user_data: { zuul_system: 'z', n: 1 }, connection_port: 'x', launcher: 'static driver' });
    const { out } = await run(['list', '--detail']);
    const t = table(out);
    expect(t.headers).toEqual(table(sample('nodepool-list-detail.txt')).headers);
    const row = Object.fromEntries(t.headers.map((h, i) => [h, t.rows[0][i]]));
    expect(row).toMatchObject({ ID: n.id, Hostname: 'h1', Comment: 'note', Port: 'redacted', Username: 'zuul', Launcher: 'static driver', 'User Data': "{'zuul_system': 'z', 'n': 1}" });
  });

  it('--json prints the web app keys in order', async () => {
    const n = await makeNode({ az: 'az1' });
    const { out } = await run(['list', '--json']);
    const rows = JSON.parse(out) as Record<string, unknown>[];
    const sampleKeys = Object.keys((JSON.parse(sample('web-node-list.json')) as Record<string, unknown>[])[0]);
    expect(Object.keys(rows[0])).toEqual(sampleKeys);
    expect(rows[0]).toMatchObject({ id: n.id, AZ: 'az1', label: ['small'], locked: 'unlocked', connection_port: 22 });
    expect(out).toMatch(/^\[\{"id": "\d{10}", "provider": "static-a", /);
  });

  it('prints an empty table when there are no nodes', async () => {
    const { out } = await run(['list']);
    const headers = table(sample('nodepool-list.txt')).headers;
    const rule = `+${headers.map((h) => '-'.repeat(h.length + 2)).join('+')}+`;
    expect(out).toBe(`${rule}\n| ${headers.join(' | ')} |\n${rule}\n${rule}\n`);
  });
});

describe('nodepool request-list and label-list', () => {
  it('lists requests with the sample columns', async () => {
    const r = new NodeRequest();
    r.node_types = ['small', 'big'];
    r.requestor = 'zuul-sim';
    r.declined_by = ['launcher-x'];
    await zk.submitNodeRequest(r, '200', { ephemeral: false });
    const { out } = await run(['request-list']);
    const t = table(out);
    expect(t.headers).toEqual(table(sample('nodepool-request-list.txt')).headers);
    expect(t.rows).toEqual([[r.id, '0', 'requested', 'zuul-sim', 'small,big', '', 'launcher-x', r.event_id]]);
    const json = JSON.parse((await run(['request-list', '--json'])).out) as Record<string, unknown>[];
    expect(Object.keys(json[0])).toEqual(Object.keys((JSON.parse(sample('web-request-list-pending.json')) as Record<string, unknown>[])[0]));
  });

  it('lists the labels of registered pools', async () => {
    const reg = await zk.registerComponent('pool', {
      hostname: 'h', kind: 'pool', state: 'running', version: 'x', model_api: 0, id: 'p1', name: 'main',
      provider_name: 'static-a', supported_labels: ['small', 'arm'], priority: 100, paused: false,
    });
    try {
      const { out } = await run(['label-list']);
      expect(table(out).rows).toEqual([['arm'], ['small']]);
      expect(JSON.parse((await run(['label-list', '--json'])).out)).toEqual([{ label: 'arm' }, { label: 'small' }]);
    } finally {
      await reg.unregister();
    }
  });
});

describe('nodepool info and erase', () => {
  async function upload(image: string, build: string, provider: string): Promise<string> {
    return client.create(`/nodepool/images/${image}/builds/${build}/providers/${provider}/images/`, Buffer.from('{"state": "ready"}'), { sequential: true, makeParents: true });
  }

  it('info shows the provider\'s image data and nodes', async () => {
    const u1 = await upload('img', 'b1', 'static-a');
    const u2 = await upload('img', 'b1', 'static-a');
    await upload('img', 'b2', 'other');
    const n = await makeNode({ external_id: 'srv-1' });
    await makeNode({ provider: 'other' });
    const { out, code } = await run(['info', 'static-a']);
    expect(code).toBe(0);
    const [head, rest] = out.split('Image data:\n');
    expect(head).toBe('ZooKeeper data for provider static-a\n\n');
    expect(table(rest).headers).toEqual(['Image Name', 'Build ID', 'Upload IDs']);
    expect(table(rest).rows).toEqual([['img', 'b1', [u1, u2].map((p) => path.basename(p)).join(',')]]);
    const nodes = table(rest.split('\nNodes:\n')[1]);
    expect(nodes.headers).toEqual(['ID', 'Server ID']);
    expect(nodes.rows).toEqual([[n.id, 'srv-1']]);
  });

  it('erase asks first and keeps everything on anything but y', async () => {
    const n = await makeNode({});
    const r = await run(['erase', 'static-a'], 'n');
    expect(r.prompts).toEqual(['Erase ZooKeeper data for provider static-a? [N/y] ']);
    expect(r.out).toBe('\nWARNING! This action is not reversible!\nAborting. No data erased.\n');
    expect(await zk.getNode(n.id as string)).toBeDefined();
  });

  it('erase removes the provider\'s nodes and uploads, nothing else', async () => {
    const mine = await makeNode({});
    const other = await makeNode({ provider: 'other' });
    await upload('img', 'b1', 'static-a');
    await upload('img', 'b1', 'other');
    const r = await run(['erase', 'static-a'], 'y');
    expect(r.out).toBe('\nWARNING! This action is not reversible!\nErasing build data for static-a...\nErasing node data for static-a...\n');
    expect(await zk.getNode(mine.id as string)).toBeUndefined();
    expect(await zk.getNode(other.id as string)).toBeDefined();
    expect(await client.exists('/nodepool/images/img/builds/b1/providers/static-a')).toBeNull();
    expect(await client.exists('/nodepool/images/img/builds/b1/providers/other')).not.toBeNull();
    expect((await run(['erase', 'other', '--force'])).prompts).toEqual([]);
    expect(await zk.getNode(other.id as string)).toBeUndefined();
  });
});

describe('nodepool hold and delete', () => {
  it('hold sets state and comment under the lock and prints the node', async () => {
    const n = await makeNode({ state: 'in-use' });
    const { out, code } = await run(['hold', n.id as string, '--reason', 'debugging']);
    expect(code).toBe(0);
    expect(out.startsWith('Waiting for lock...\n')).toBe(true);
    expect(table(out).rows).toEqual([[n.id, 'static-a', 'small', '', '', '', 'hold', '00:00:00:00', 'unlocked']]);
    const stored = await zk.getNode(n.id as string);
    expect([stored?.state, stored?.comment]).toEqual(['hold', 'debugging']);
    expect(await zk.isNodeLocked(n.id as string)).toBe(false);
  });

  it('hold takes the id alone like Nodepool\'s (the comment stays), and an unknown node is reported', async () => {
    const n = await makeNode({ state: 'in-use', comment: 'set by zuul' });
    const { code } = await run(['hold', n.id as string]);
    expect(code).toBe(0);
    const stored = await zk.getNode(n.id as string);
    expect([stored?.state, stored?.comment]).toEqual(['hold', 'set by zuul']);
    const missing = await run(['hold', '0000099999']);
    expect([missing.code, missing.out]).toEqual([0, 'Node id 0000099999 not found\n']);
    expect((await run(['hold', '0000099999', '--reason', 'x'])).out).toBe('Node id 0000099999 not found\n');
  });

  it('hold gives up after 5 s on a node locked elsewhere, in one line', async () => {
    const n = await makeNode({ state: 'in-use' });
    const held = (await zk.getNode(n.id as string)) as Node;
    await zk.lockNode(held);
    try {
      const r = await run(['hold', n.id as string, '--reason', 'x']);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`nodepool: timeout trying to acquire the lock of node ${n.id} (held by someone else)\n`);
      expect((await zk.getNode(n.id as string))?.state).toBe('in-use');
    } finally {
      await zk.unlockNode(held);
    }
  }, 20000);

  it('delete marks the node deleting under its lock', async () => {
    const n = await makeNode({ state: 'ready' });
    const { out, code } = await run(['delete', n.id as string]);
    expect(code).toBe(0);
    expect(table(out).rows[0][6]).toBe('deleting');
    expect((await zk.getNode(n.id as string))?.state).toBe('deleting');
    expect(await zk.isNodeLocked(n.id as string)).toBe(false);
    expect((await run(['delete', '0000099999'])).out).toBe('Node id 0000099999 not found\n');
  });

  it('delete --now refuses a provider this config does not define, and leaves the node alone', async () => {
    const n = await makeNode({ provider: 'elsewhere' });
    const { out, code } = await run(['delete', n.id as string, '--now']);
    expect(code).toBe(0);
    expect(out).toBe(`Provider elsewhere for node ${n.id} not defined on this launcher\n`);
    expect((await zk.getNode(n.id as string))?.state).toBe('ready');
    expect(await zk.isNodeLocked(n.id as string)).toBe(false);
  });
});

describe('nodepool delete --now', () => {
  it('deletes the node here through the provider of the local config (fake driver plugin)', async () => {
    const pluginDir = path.join(tmp, 'plugins', 'fake');
    fs.mkdirSync(pluginDir, { recursive: true });
    fs.writeFileSync(path.join(pluginDir, 'package.json'), JSON.stringify({ name: 'fake', 'nodepool-ts': { entry: 'index.js', drivers: ['fake'] } }));
    fs.writeFileSync(path.join(pluginDir, 'index.js'), "module.exports = require('@nodepool-ts/sdk').fakeDriverModule;\n");
    const fakeConfig = path.join(tmp, 'fake.yaml');
    fs.writeFileSync(fakeConfig, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: small\nproviders:\n  - name: fake-a\n    driver: fake\n    pools:\n      - name: main\n        labels:\n          - name: small\n`);
    const n = await makeNode({ provider: 'fake-a', external_id: 'i-gone', state: 'used' });
    const r = io();
    r.env = { NODEPOOL_TS_PLUGIN_DIRS: path.join(tmp, 'plugins') };
    const code = await nodepoolMain(['-c', fakeConfig, 'delete', n.id as string, '--now'], r);
    expect([code, r.err]).toEqual([0, '']);
    // Nodepool prints the list for the id afterwards: the node is gone, so the table is empty.
    expect(table(r.out).rows).toEqual([]);
    expect(await zk.getNode(n.id as string)).toBeUndefined();
    expect(await client.exists(`/nodepool/nodes/${n.id}`)).toBeNull();
  });
});

describe('errors', () => {
  it('bin/nodepool list against an unreachable ZooKeeper prints one line and exits non-zero', async () => {
    const port = await freePort();
    const bad = path.join(tmp, 'unreachable.yaml');
    fs.writeFileSync(bad, `zookeeper-servers:\n  - host: 127.0.0.1\n    port: ${port}\nlabels: []\n`);
    const bin = path.resolve(__dirname, '../../bin/nodepool');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, '-c', bad, 'list'], { timeout: 20000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1 : 0, stdout, stderr });
      });
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^nodepool: cannot connect to ZooKeeper at 127\\.0\\.0\\.1:${port}: [^\\n]+\\n$`));
  }, 25000);

  it('unknown commands and missing arguments are one-line errors', async () => {
    const r = await run(['info']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("nodepool: error: missing required argument 'provider'\n");
    expect((await run(['frobnicate'])).err).toMatch(/^nodepool: error: unknown command 'frobnicate'\n$/);
  });
});
