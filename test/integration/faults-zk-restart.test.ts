/**
 * Fault tests (issue 8, part 3): the ZooKeeper server itself goes away under load, with two
 * launchers (same provider name) and a Zuul-style requestor all connected to it.
 *
 * - Restart (SIGTERM, start again on the same port and data dir) within the session timeout:
 *   sessions survive on the server, clients reconnect to them; the launchers pause while
 *   disconnected and carry on.
 * - Crash (SIGKILL) and an outage longer than the session timeout: every client declares its
 *   session lost, gets a new one when the server is back, re-registers, reloads its caches; the
 *   requests and nodes the old sessions were working on are recovered by the cleanup.
 *
 * Each ends with "nothing lost" (see test/support/fault-load.ts).
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';
import { expectSettled, RequestLoad } from '../support/fault-load';
import { FAULT_SCALE, scaled } from '../support/fault-scale';

jest.setTimeout(180_000 * FAULT_SCALE);

const h = new EngineHarness();

// max-ready-age: a node given back unused (its request gone, e.g. after a failed accept) stays
// ready for reuse; with the load stopped nothing reuses it, and this is how Nodepool reclaims it.
const fakeBody = (provider: string): string =>
  `labels:\n  - name: small\n    max-ready-age: 3\n  - name: big\n    max-ready-age: 3\nproviders:\n  - name: fake-a\n    driver: fake\n${provider}    pools:\n      - name: main\n        max-servers: 30\n        labels:\n          - name: small\n          - name: big\n`;

const instances = (l: Launcher): string[] => [...(l.engine.runtimes.get('fake-a')!.provider as FakeProvider).cloud.instances.keys()];

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

async function underLoad(fault: () => Promise<void>): Promise<void> {
  const a = await h.startLauncher('a', fakeBody('    boot-ms: 800\n    id-prefix: a\n'));
  const b = await h.startLauncher('b', fakeBody('    boot-ms: 800\n    id-prefix: b\n'));
  const load = new RequestLoad(h.zuul, h.zk, { labels: [['small'], ['small', 'big']], loops: 6, holdMs: 100, requestTimeoutMs: 150_000 });
  load.start();
  await load.waitFulfilled(8, 60_000);
  await waitUntil('launches in flight', async () => (await h.nodes((n) => n.state === 'building')).length >= 1, 30_000);
  await fault();
  await waitUntil('every client connected again', async () => [h.client, ...[a, b].map((l) => l.kernel.container.get<ZooKeeper>(ZooKeeper).client)]
    .every((c) => c.state === 'connected'), 60_000);
  await load.waitFulfilled(load.fulfilled + scaled(15), 120_000 * FAULT_SCALE);
  const report = await load.stop();
  expect(report.lost).toEqual([]);
  expect(report.doubleAllocated).toEqual([]);
  await expectSettled(h.client, h.zk, { readyNodes: 0, cloudInstances: () => [...instances(a), ...instances(b)], timeoutMs: 90_000 });
}

describe('ZooKeeper server restart under load', () => {
  it('restart within the session timeout: sessions survive, launchers carry on', async () => {
    await underLoad(async () => {
      await h.server.restart();
    });
  });

  it('crash and an outage longer than the session timeout: new sessions, work recovered', async () => {
    await underLoad(async () => {
      await h.server.kill();
      await sleep(12_000); // launchers and requestor: 10 s sessions
      await h.server.restart();
    });
  });
});
