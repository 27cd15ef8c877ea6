/**
 * Fault tests (issue 8, part 2): launcher A reaches ZooKeeper through a proxy and loses its
 * session in the middle of launches, or its connection for longer or shorter than the session
 * timeout, while launcher B (direct connection, same provider name) keeps serving a steady load.
 *
 * - Session expired / cut longer than the timeout: A's request and node locks are gone with the
 *   session. B (or A itself once back) resets A's `pending` requests and reaps its `building`
 *   nodes; A must not write the requests it lost (B may already work on them), must pause its
 *   workers while it has no session and must serve again once it has a new one.
 * - Cut shorter than the timeout: the session survives; A goes on where it was.
 *
 * Each ends with "nothing lost": every request fulfilled (or failed with a decline reason), no node
 * handed out twice, no node, cloud instance or lock left behind. A's resumed service is shown by
 * stopping B and getting more requests fulfilled by A alone.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';
import { expectSettled, RequestLoad } from '../support/fault-load';
import { FAULT_SCALE, scaled } from '../support/fault-scale';
import { expireSession, startProxiedLauncher, type ProxiedLauncher } from '../support/proxied-launcher';

jest.setTimeout(150_000 * FAULT_SCALE);

const h = new EngineHarness();
const SESSION_S = 3;
let a: ProxiedLauncher | undefined;

// max-ready-age: a node given back unused (its request gone, e.g. after a failed accept) stays
// ready for reuse; with the load stopped nothing reuses it, and this is how Nodepool reclaims it.
const fakeBody = (provider: string): string =>
  `labels:\n  - name: small\n    max-ready-age: 3\n  - name: big\n    max-ready-age: 3\nproviders:\n  - name: fake-a\n    driver: fake\n${provider}    pools:\n      - name: main\n        max-servers: 30\n        labels:\n          - name: small\n          - name: big\n`;

const instances = (l: Launcher): string[] => [...(l.engine.runtimes.get('fake-a')!.provider as FakeProvider).cloud.instances.keys()];

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterEach(async () => {
  await h.stopLaunchers();
  await a?.proxy.close();
  a = undefined;
});
afterAll(async () => h.close());

/** A (proxied, slow boots) and B (direct) on one provider name, with a load; A launching. */
async function setUp(): Promise<{ a: ProxiedLauncher; b: Launcher; load: RequestLoad }> {
  a = await startProxiedLauncher(h, 'a', fakeBody('    boot-ms: 2000\n    id-prefix: a\n'), SESSION_S);
  const b = await h.startLauncher('b', fakeBody('    boot-ms: 300\n    id-prefix: b\n'));
  const load = new RequestLoad(h.zuul, h.zk, { labels: [['small'], ['small', 'big']], loops: 6, holdMs: 100 });
  load.start();
  await waitUntil('A launching', async () => (await h.nodes((n) => n.state === 'building' && (n.launcher ?? '').startsWith('a-'))).length >= 1, 30_000);
  return { a, b, load };
}

/** After the fault: more work done, then B stops and A alone must serve; then all settles. */
async function finish(p: { a: ProxiedLauncher; b: Launcher; load: RequestLoad }): Promise<void> {
  await p.load.waitFulfilled(p.load.fulfilled + scaled(10), 90_000 * FAULT_SCALE);
  await waitUntil('A connected again', async () => p.a.client.state === 'connected', 30_000);
  await p.b.kernel.stop();
  h.launchers = h.launchers.filter((l) => l !== p.b);
  await p.load.waitFulfilled(p.load.fulfilled + scaled(8), 90_000 * FAULT_SCALE);
  const report = await p.load.stop();
  expect(report.lost).toEqual([]);
  expect(report.doubleAllocated).toEqual([]);
  await expectSettled(h.client, h.zk, { readyNodes: 0, cloudInstances: () => instances(p.a.launcher) });
}

describe('ZooKeeper session faults of a launcher under load', () => {
  it('session expired mid-launch: its requests are reset and served, it resumes with a new session', async () => {
    const p = await setUp();
    const before = p.a.client.sessionId;
    await expireSession(h, p.a.client, p.a.proxy);
    await waitUntil('A has a new session', async () => p.a.client.state === 'connected' && p.a.client.sessionId !== before, 30_000);
    await finish(p);
  });

  it('connection cut longer than the session timeout: same as an expiry once the cut ends', async () => {
    const p = await setUp();
    const before = p.a.client.sessionId;
    p.a.proxy.pause();
    await sleep(SESSION_S * 1000 * 2.5);
    // Meanwhile B went on serving, A's pending requests included.
    const during = p.load.fulfilled;
    await p.load.waitFulfilled(during + 3, 30_000);
    p.a.proxy.resume();
    await waitUntil('A has a new session', async () => p.a.client.state === 'connected' && p.a.client.sessionId !== before, 30_000);
    await finish(p);
  });

  it('connection cut shorter than the session timeout: the session survives and A carries on', async () => {
    const p = await setUp();
    const before = p.a.client.sessionId;
    p.a.proxy.pause();
    await sleep(SESSION_S * 1000 * 0.3);
    p.a.proxy.resume();
    await waitUntil('A reconnected', async () => p.a.client.state === 'connected', 30_000);
    expect(p.a.client.sessionId).toBe(before);
    await finish(p);
  });
});
