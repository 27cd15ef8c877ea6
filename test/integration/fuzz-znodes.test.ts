/**
 * Hostile znode bodies (issue 8 part 5): a few hundred malformed or unexpected records, from a
 * fixed seed, written into /nodepool/requests, /nodepool/nodes and the pool components while a launcher with a static
 * provider serves valid Zuul-style jobs. Every valid job must complete; every unreadable record
 * must be logged with its znode path, once per version (no storm); the launcher, its web API and
 * `nodepool list` / `request-list` keep working. Bounded by work, not wall time: a fixed number of
 * records, at most HEAVY_EACH of each 100-700 KB kind per target, and waits on conditions.
 */
import { Writable } from 'node:stream';
import { nodepoolMain } from '../../src/cli/nodepool-cli';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { parseComponent } from '../../src/zk/models/component';
import { ModelError } from '../../src/zk/models/model-error';
import { Node } from '../../src/zk/models/node';
import { NodeRequest } from '../../src/zk/models/node-request';
import { WebApp } from '../../src/web/web-app';
import { EngineHarness, FAST_ENGINE, sleep, waitUntil } from '../support/engine-harness';
import { KindPicker, Rng, malformedBody } from '../support/fuzz';
import { testSettings } from '../support/test-settings';

jest.setTimeout(180000);

const SEED = 20261126;
const CASES = 320;
/** Bodies of each heavy kind (fuzz.ts HEAVY_KINDS) per target: nodes, requests, pool records. */
const HEAVY_EACH = 2;
const h = new EngineHarness();
let launcher: Launcher;
let webApp: WebApp | undefined;
let config: string;
const logLines: Array<Record<string, unknown>> = [];

const VALID_NODE = {
  state: 'ready', state_time: 1764000000.5, provider: 'fuzz-elsewhere', pool: 'main', type: ['fuzz-label'],
  allocated_to: null, hostname: '192.0.2.1', interface_ip: '192.0.2.1', connection_port: 22, username: 'zuul',
  launcher: 'somebody', host_keys: [], attributes: { a: 1 }, resources: { cores: 1 }, user_data: null,
};
const VALID_POOL = {
  kind: 'pool', hostname: 'elsewhere', state: 'running', version: '9.0.0', model_api: 1, id: 'x', name: 'main',
  provider_name: 'fuzz-elsewhere', supported_labels: ['fuzz-label'], priority: 100, paused: false,
};
const VALID_REQUEST = {
  state: 'requested', state_time: 1764000000.5, declined_by: [], node_types: ['fuzz-label'], nodes: [],
  reuse: true, requestor: 'fuzzer', requestor_data: { job_name: 'x' }, provider: null, relative_priority: 0,
  event_id: 'e', created_time: 1764000000.5, tenant_name: 't',
};

beforeAll(async () => {
  await h.open();
  config = h.writeConfig('fuzz', 'labels:\n  - name: small\nproviders:\n  - name: static-fuzz\n    driver: static\n    pools:\n      - name: main\n        nodes:\n          - name: 127.0.0.1\n            labels: [small]\n            host-key-checking: false\n          - name: 127.0.0.2\n            labels: [small]\n            host-key-checking: false\n');
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  launcher = await createLauncher(
    testSettings({ config, hostname: 'fuzz', log: { level: 'info', format: 'json' }, web: { enabled: true, port: 0, listenAddress: '127.0.0.1' } }),
    { engine: FAST_ENGINE, logStream, coreServices: (c) => [(webApp = new WebApp(c, { cacheTtlMs: 0 }))] },
  );
  expect(launcher.configErrors).toEqual([]);
  await launcher.kernel.start();
  webApp!.setReady(true);
  await waitUntil('two ready static nodes', async () => (await h.nodes((n) => n.provider === 'static-fuzz' && n.state === 'ready')).length === 2);
});

afterAll(async () => {
  await launcher?.kernel.stop();
  await h.close();
});

/** Would our own parser refuse this body? Then a log line must name its path. */
function unreadable(kind: 'node' | 'request', id: string, data: Buffer, path: string): boolean {
  try {
    if (data.length === 0 && kind === 'node') return false; // an empty node znode means "no node" (spec §3.3)
    if (kind === 'node') Node.parse(id, data, 0, path);
    else NodeRequest.parse(id, data, 0, path);
    return false;
  } catch (err) {
    if (err instanceof ModelError) return true;
    throw new Error(`parser threw a non-ModelError for ${path}: ${(err as Error).stack}`);
  }
}

const logTexts: string[] = [];
function linesNaming(path: string): Array<Record<string, unknown>> {
  for (let i = logTexts.length; i < logLines.length; i++) logTexts.push(JSON.stringify(logLines[i]));
  return logLines.filter((_, i) => logTexts[i].includes(path));
}

/** `n` passes of each worker that reads the records, so that a per-pass log storm shows. */
async function workerPasses(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (const worker of [...launcher.engine.pools, launcher.engine.cleanup]) {
      worker?.wake();
      await worker?.idle();
    }
  }
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { out: '', err: '' };
  const code = await nodepoolMain(['-c', config, ...args], {
    env: {}, stdout: (t) => void (r.out += t), stderr: (t) => void (r.err += t), ask: async () => '',
  });
  return { code, ...r };
}

test('a launcher serves valid jobs among hundreds of malformed records and logs each bad one by path, once per version', async () => {
  const rng = new Rng(SEED);
  const kinds = new KindPicker(rng, HEAVY_EACH);
  const bad: Array<{ path: string; kind: string; versions: number }> = [];
  // Valid jobs run all along; two static hosts serve them one after another.
  const jobs = Array.from({ length: 8 }, (_, i) => sleep(i * 300).then(() => h.zuul.runJob({ labels: ['small'], holdMs: 30, timeoutMs: 120000 })));

  // Written eight at a time (ZooKeeper commits them together), a short pause every 40.
  const records = Array.from({ length: CASES }, (_, i) => {
    const what = i % 2 === 0 ? 'request' : 'node';
    const kind = kinds.next(what);
    return { what, kind, data: malformedBody(rng, kind, what === 'node' ? VALID_NODE : VALID_REQUEST) } as const;
  });
  for (let i = 0; i < CASES; i += 8) {
    await Promise.all(records.slice(i, i + 8).map(async ({ what, kind, data }) => {
      const path = await h.client.create(what === 'node' ? '/nodepool/nodes/' : '/nodepool/requests/300-', data, { sequential: true, makeParents: true });
      const id = path.slice(path.lastIndexOf('/') + 1);
      if (unreadable(what, id, data, path)) bad.push({ path, kind, versions: 1 });
    }));
    if (i % 40 === 32) await sleep(100);
  }
  // Pool components are read on every pool pass (decline and yield rules) and by the web app.
  for (let i = 0; i < 40; i++) {
    const kind = kinds.next('pool');
    const data = malformedBody(rng, kind, VALID_POOL);
    const path = await h.client.create('/nodepool/components/pool/fuzz-pool-', data, { sequential: true, makeParents: true });
    try {
      parseComponent(path, data);
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      bad.push({ path, kind, versions: 1 });
    }
  }
  // A second bad version of some records must be reported again (once), as a new version.
  for (const entry of bad.slice(0, 20)) {
    await h.client.set(entry.path, Buffer.from(`{"version two": ${entry.path.length}`)).catch(() => undefined);
    entry.versions = 2;
  }

  const results = await Promise.all(jobs);
  expect(results).toHaveLength(8);
  expect(bad.length).toBeGreaterThan(100);

  // Every unreadable record named in the log; then a few more passes of every worker, so that a
  // per-pass storm would show.
  await waitUntil('every unreadable record logged', async () => bad.every((b) => linesNaming(b.path).length > 0), 60_000)
    .catch(() => undefined); // the expectation below names the missing ones
  await workerPasses(3);
  const missing = bad.filter((b) => linesNaming(b.path).length === 0);
  expect(missing.map((m) => `${m.path} (${m.kind})`)).toEqual([]);
  const storms = bad
    // The cleanup fails an unreadable request (one line saying so, and a readable version of
    // ours in between): not a report of the bad version.
    .map((b) => ({ ...b, count: linesNaming(b.path).filter((l) => !JSON.stringify(l).includes('cannot be read')).length }))
    // The engine's record cache and the web app's cache each report a version once.
    .filter((b) => b.count > 2 * b.versions + 1);
  expect(storms.map((s) => `${s.path} (${s.kind}) logged ${s.count} times`)).toEqual([]);

  // Still healthy: a new job after the storm of junk, and the web API and CLI still answer.
  await h.zuul.runJob({ labels: ['small'], holdMs: 10, timeoutMs: 60000 });
  const { port } = webApp!.address()!;
  for (const p of ['/ready', '/node-list', '/node-list.json', '/request-list', '/request-list.json', '/label-list.json']) {
    const res = await fetch(`http://127.0.0.1:${port}${p}`);
    expect([p, res.status]).toEqual([p, 200]);
    await res.text();
  }
  // Hostile HTTP requests too: odd methods, paths, queries and headers get 200/304/404/405, never 500.
  const paths = ['/node-list', '/node-list.json', '/request-list', '/label-list.json', '/metrics', '/ready', '/', '//node-list', '/node-list/../request-list', '/%zz', `/${'a'.repeat(5000)}`, '/node-list.json.json', '/image-status'];
  const queries = ['', '?node_id=', '?node_id=%zz', '?node_id=0000000001&node_id=2', '?fields=', '?fields=,,,', `?fields=${'id,'.repeat(500)}`, '?fields=nonexistent', '?fields=id,state,label&x=%00', '?%%%'];
  const accepts = ['', '*/*', 'application/json', 'application/json;q=0', 'text/html;q=0.9, application/json;q=abc', ';;;', 'a'.repeat(3000)];
  const odd: string[] = [];
  for (let i = 0; i < 150; i++) {
    const method = rng.pick(['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']);
    const url = `http://127.0.0.1:${port}${rng.pick(paths)}${rng.pick(queries)}`;
    const headers: Record<string, string> = { Accept: rng.pick(accepts), 'If-Modified-Since': rng.pick(['', 'yesterday', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT']) };
    const res = await fetch(url, { method, headers, body: ['POST', 'PUT', 'PATCH'].includes(method) ? '{"state": "deleting"}' : undefined });
    await res.arrayBuffer();
    if (![200, 304, 404, 405].includes(res.status)) odd.push(`${method} ${url.slice(0, 120)} -> ${res.status}`);
  }
  expect(odd).toEqual([]);
  const nodeList = (await (await fetch(`http://127.0.0.1:${port}/node-list.json`)).json()) as Array<{ provider: string }>;
  expect(nodeList.filter((n) => n.provider === 'static-fuzz').length).toBeGreaterThanOrEqual(1);
  for (const args of [['list'], ['list', '--detail'], ['list', '--json'], ['request-list'], ['request-list', '--json']]) {
    const r = await cli(args);
    expect([args.join(' '), r.code, r.err]).toEqual([args.join(' '), 0, '']);
  }
  expect(logLines.filter((l) => (l.level as number) >= 60)).toEqual([]);
});

test('readable requests with odd field values for a label we serve are handled, then released, without hurting the launcher', async () => {
  const rng = new Rng(SEED + 1);
  const template = { ...VALID_REQUEST, node_types: ['small'] };
  const served: string[] = [];
  for (let i = 0; i < 24; i++) {
    const kind = rng.pick(['wrong-types', 'huge-number', 'nan-infinity', 'proto-keys', 'missing-keys'] as const);
    const data = malformedBody(rng, kind, template);
    let parsed: NodeRequest;
    try {
      parsed = NodeRequest.parse('300-0000000000', data);
    } catch {
      continue;
    }
    if (parsed.state !== 'requested') continue;
    // Keep node_types as written (it is what the launcher sees); only requests for our label matter.
    if (!parsed.node_types.includes('small')) continue;
    const path = await h.client.create('/nodepool/requests/300-', data, { sequential: true });
    served.push(path.slice(path.lastIndexOf('/') + 1));
  }
  expect(served.length).toBeGreaterThan(5);
  // Each is fulfilled or failed like any request; then "Zuul" drops it and the nodes come back.
  // All at once: with two static hosts, requests the launcher took first must be dropped before
  // the others can be served, in whatever order their odd priorities give.
  await Promise.all(served.map(async (id) => {
    const req = await h.zuul.waitFor(id, ['fulfilled', 'failed'], 90000);
    expect(['fulfilled', 'failed']).toContain(req.state);
    await h.zuul.cancel(id);
  }));
  // The first test's fake pool components legitimately steer scheduling (a readable one that
  // claims the label with a better priority makes us yield, and one that never declines keeps
  // requests from failing, exactly as with Python Nodepool): remove them first.
  for (const name of await h.client.getChildren('/nodepool/components/pool').catch(() => [] as string[])) {
    if (name.startsWith('fuzz-pool-')) await h.client.delete(`/nodepool/components/pool/${name}`);
  }
  // Znodes whose NAMES are not what Nodepool makes (no priority prefix, no sequence), with
  // readable bodies: handled or ignored, never a crash.
  for (const name of ['garbage-name', '100', '-', 'x-y-z', '999-abc']) {
    await h.client.create(`/nodepool/requests/${name}`, Buffer.from(JSON.stringify(VALID_REQUEST)));
  }
  for (const name of ['not-a-number', '-1', '00000000000000000001']) {
    await h.client.create(`/nodepool/nodes/${name}`, Buffer.from(JSON.stringify(VALID_NODE)));
  }
  await h.zuul.runJob({ labels: ['small'], holdMs: 10, timeoutMs: 60000 });
  for (const args of [['list'], ['request-list'], ['list', '--json']]) expect((await cli(args)).code).toBe(0);
  // Each odd name is either handled like any request (declined by our only pool: failed) or
  // refused as unreadable with its path in the log.
  await waitUntil('odd-named requests handled', async () => {
    const requests = new Map((await h.zk.getNodeRequests()).map((r) => [r.id, r]));
    return ['garbage-name', '100', '-', 'x-y-z', '999-abc'].every((n) => {
      const r = requests.get(n);
      return r ? r.state === 'failed' : linesNaming(`/nodepool/requests/${n}"`).length > 0;
    });
  }, 20000);
  expect(logLines.filter((l) => (l.level as number) >= 60)).toEqual([]);
  expect(logLines.filter((l) => /TypeError|Cannot read properties|is not a function/.test(JSON.stringify(l)))).toEqual([]);
});
