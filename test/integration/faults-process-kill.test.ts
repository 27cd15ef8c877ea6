/**
 * Fault test (issue 8, part 1): a `nodepool-launcher` process is killed with SIGKILL in the
 * middle of its work while a second launcher (in this process) runs the same provider name.
 * Nothing is handed over: the dead launcher's request locks, node locks and pool registration
 * only go when the server expires its session. The survivor must then reset the requests the
 * dead one had `pending` (lost-request cleanup), reap its unlocked `building` / `deleting` nodes
 * (deleted-node worker, same provider name) and serve everything: no request lost, no node
 * handed out twice, no node or lock left behind.
 *
 * The fake cloud of the killed process dies with it, so its instances cannot be counted here;
 * the survivor's cloud is (every instance it holds must belong to a node).
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { EngineHarness, waitUntil } from '../support/engine-harness';
import { expectSettled, RequestLoad } from '../support/fault-load';
import { FAULT_SCALE, scaled } from '../support/fault-scale';
import { startLauncherProcess, type LauncherProcess } from '../support/launcher-process';

jest.setTimeout(150_000 * FAULT_SCALE);

const h = new EngineHarness();
let victim: LauncherProcess | undefined;

// max-ready-age: a node given back unused (its request gone, e.g. after a failed accept) stays
// ready for reuse; with the load stopped nothing reuses it, and this is how Nodepool reclaims it.
const fakeBody = (provider: string): string =>
  `labels:\n  - name: small\n    max-ready-age: 3\n  - name: big\n    max-ready-age: 3\nproviders:\n  - name: fake-a\n    driver: fake\n${provider}    pools:\n      - name: main\n        max-servers: 30\n        labels:\n          - name: small\n          - name: big\n`;

function cloudOf(launcher: Launcher): FakeProvider {
  return launcher.engine.runtimes.get('fake-a')!.provider as FakeProvider;
}

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterEach(async () => {
  await victim?.kill9();
  victim = undefined;
});
afterAll(async () => h.close());

/** Nodes of the victim (its pool ids start with its hostname) in `state`. */
async function victimNodes(state: string): Promise<number> {
  return (await h.nodes((n) => n.state === state && (n.launcher ?? '').startsWith('victim-'))).length;
}

describe('kill -9 of a launcher process', () => {
  it('during launches: the survivor resets its requests, reaps its building nodes, serves everything', async () => {
    // Slow boots keep the victim's launches in flight when it dies.
    victim = await startLauncherProcess(h.writeConfig('victim', fakeBody('    boot-ms: 3000\n    id-prefix: victim\n')), 'victim-l');
    const load = new RequestLoad(h.zuul, h.zk, { labels: [['small'], ['small', 'big']], loops: 6, holdMs: 100 });
    load.start();
    await waitUntil('the victim launching', async () => (await victimNodes('building')) >= 3, 30_000);
    const survivor = await h.startLauncher('survivor', fakeBody('    boot-ms: 200\n'));
    await waitUntil('the victim still launching', async () => (await victimNodes('building')) >= 1, 30_000);
    const pending = (await h.zk.getNodeRequests()).filter((r) => r.state === 'pending').length;
    await victim.kill9();
    victim = undefined;
    expect(pending).toBeGreaterThan(0);
    // Work goes on through the survivor once the victim's session expired.
    const before = load.fulfilled;
    await load.waitFulfilled(before + scaled(15), 90_000 * FAULT_SCALE);
    await waitUntil('the victim\'s nodes reaped', async () => (await h.nodes((n) => (n.launcher ?? '').startsWith('victim-'))).length === 0, 60_000);
    const report = await load.stop();
    expect(report.lost).toEqual([]);
    expect(report.doubleAllocated).toEqual([]);
    expect(report.fulfilled).toBeGreaterThan(15);
    await expectSettled(h.client, h.zk, { readyNodes: 0, cloudInstances: () => [...cloudOf(survivor).cloud.instances.keys()] });
  });

  it('during deletes: the survivor finishes the deletes the victim held locked', async () => {
    // Slow deletes keep the victim's used nodes `deleting` (locked by it) when it dies.
    victim = await startLauncherProcess(h.writeConfig('victim', fakeBody('    delete-ms: 4000\n    id-prefix: victim\n')), 'victim-d');
    const load = new RequestLoad(h.zuul, h.zk, { labels: [['small']], loops: 6, holdMs: 50 });
    load.start();
    // Deletes run one at a time per launcher, so one `deleting` node plus `used` ones queued.
    await waitUntil('the victim deleting', async () => (await h.nodes((n) => n.state === 'deleting')).length >= 1, 30_000);
    const survivor = await h.startLauncher('survivor', fakeBody('    delete-ms: 100\n'));
    const deleting = (await h.nodes((n) => n.state === 'deleting')).map((n) => n.id as string);
    await victim.kill9();
    victim = undefined;
    expect(deleting.length).toBeGreaterThan(0);
    const before = load.fulfilled;
    await load.waitFulfilled(before + scaled(10), 90_000 * FAULT_SCALE);
    const report = await load.stop();
    // The nodes the victim was deleting are gone (deleted by the survivor after the expiry).
    await waitUntil('the victim\'s deletes finished', async () => {
      const ids = new Set((await h.nodes()).map((n) => n.id as string));
      return deleting.every((id) => !ids.has(id));
    }, 60_000);
    expect(report.lost).toEqual([]);
    expect(report.doubleAllocated).toEqual([]);
    await expectSettled(h.client, h.zk, { readyNodes: 0, cloudInstances: () => [...cloudOf(survivor).cloud.instances.keys()] });
  });
});
