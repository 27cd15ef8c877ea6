/**
 * Issue 17: a new request is read first only by the launcher of its reader pool (the rendezvous
 * choice from the request id alone); the others leave it unread for the turn delay. When the
 * reader's pool cannot take it (here: a label it lacks), it hands the request over at once. Two
 * launchers with different labels and a turn delay longer than the test: a request for the
 * other launcher's label whose reader is the wrong pool is served only through the hand-over.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { requestReader } from '../../src/launcher/rendezvous';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { HANDOFF_ROOT } from '../../src/zk/request-handoffs';
import type { ZkClient } from '../../src/zk/zk-client';
import { EngineHarness, waitUntil } from '../support/engine-harness';

jest.setTimeout(60000);
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const body = (provider: string, label: string, host: string): string =>
  `labels:\n  - name: ${label}\nproviders:\n  - name: ${provider}\n    driver: static\n    pools:\n      - name: main\n        nodes:\n` +
  `          - name: ${host}\n            labels: [${label}]\n            host-key-checking: false\n`;

// Without a hand-over, a request left unread waits this long: past the test's own timeout. No
// periodic pass that reads every request (cleanup, gauges, lost-request check) in the meantime.
const ENGINE = { rendezvousDelayMs: 120000, cleanupIntervalMs: 600000, statsIntervalMs: 600000, handoverCheckMs: 600000 };

/** Paths of hand-overs `l` creates from now on. */
function handOffsOf(l: Launcher): string[] {
  const client = l.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  const made: string[] = [];
  const create = client.create.bind(client);
  client.create = async (path, data, options) => {
    if (path.startsWith(`${HANDOFF_ROOT}/`)) made.push(path.slice(HANDOFF_ROOT.length + 1));
    return create(path, data, options);
  };
  return made;
}

it('hands a request its reader pool cannot serve to the other launchers at once', async () => {
  const a = await h.startLauncher('handoff-a', body('pa', 'alpha', '127.0.0.1'), ENGINE);
  await h.startLauncher('handoff-b', body('pb', 'beta', '127.0.0.2'), ENGINE);
  const pools = await waitUntil('both pools and both slots', async () => {
    const registered = await h.zk.getRegisteredPools();
    return registered.length === 2 && (await h.nodes((n) => n.state === 'ready')).length === 2 && registered;
  });
  const poolA = pools.find((p) => p.provider_name === 'pa')!;
  // One job first: right after the start a pool record may still be read, and a request created
  // meanwhile is read by every launcher.
  await h.zuul.runJob({ labels: ['beta'], timeoutMs: 20000 });
  const madeByA = handOffsOf(a);

  // `beta` requests one at a time until one had pool A as its reader (about one in two).
  const handedOver: string[] = [];
  for (let i = 0; i < 12 && handedOver.length === 0; i++) {
    const job = await h.zuul.runJob({ labels: ['beta'], timeoutMs: 20000 });
    if (requestReader(job.requestId, pools)?.id === poolA.id) handedOver.push(job.requestId);
  }
  expect(handedOver).toHaveLength(1);
  // Served by B, although only A read it at first: A handed it over...
  expect(madeByA).toEqual(handedOver);
  // ... and withdrew the hand-over once the request was no longer `requested`.
  await waitUntil('hand-over withdrawn', async () => (await h.zk.client.getChildren(HANDOFF_ROOT)).length === 0);
});
