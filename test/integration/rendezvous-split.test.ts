/**
 * Issue 17's work split on a real ZooKeeper: two launchers run the same static provider (one
 * nodepool.yaml, like a real fleet). Each request is touched only by the launcher whose pool its
 * rendezvous hash prefers (the other never races for its lock). Then one launcher is stopped and
 * a silent pool record is left registered (a hung launcher whose session has not expired yet):
 * every request is still served, those preferring the silent pool after the bounded wait.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { preferredPool } from '../../src/launcher/rendezvous';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import { serializeComponent, type PoolComponentRecord } from '../../src/zk/models/component';
import { componentPath } from '../../src/zk/nodepool-paths';
import type { ZkClient } from '../../src/zk/zk-client';
import { EngineHarness, waitUntil } from '../support/engine-harness';

jest.setTimeout(60000);
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const HOSTS = 12;
const BODY =
  'labels:\n  - name: small\nproviders:\n  - name: fleet\n    driver: static\n    pools:\n      - name: main\n        nodes:\n' +
  Array.from({ length: HOSTS }, (_, i) => `          - name: 127.0.0.${i + 1}\n            labels: [small]\n            host-key-checking: false\n`).join('');

/** Request ids a launcher's transactions touch (the request or its lock), from now on. */
function watchTransactions(l: Launcher): Set<string> {
  const client = l.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  const touched = new Set<string>();
  const multi = client.multi.bind(client);
  client.multi = async (ops) => {
    const ids = ops.map((op) => /^\/nodepool\/requests(?:-lock)?\/([^/]+)/.exec(op.path)?.[1]).filter((id): id is string => !!id);
    ids.forEach((id) => touched.add(id));
    return multi(ops);
  };
  return touched;
}

async function fulfilled(ids: string[]): Promise<boolean> {
  const states = await Promise.all(ids.map(async (id) => (await h.zk.getNodeRequest(id))?.state));
  return states.every((s) => s === 'fulfilled');
}

it('takes each request by its rendezvous choice without lock races, and serves all when one launcher is silent or gone', async () => {
  const engine = { rendezvousDelayMs: 2000 };
  const a = await h.startLauncher('fleet-a', BODY, engine);
  const b = await h.startLauncher('fleet-b', BODY, engine);
  const pools = await waitUntil('both pools and every slot', async () => {
    const registered = await h.zk.getRegisteredPools();
    const ready = await h.nodes((n) => n.state === 'ready');
    return registered.length === 2 && ready.length === HOSTS && registered;
  });
  const poolOf = new Map(pools.map((p) => [p.id, p.hostname === 'fleet-a' ? a : b]));

  const [txA, txB] = [watchTransactions(a), watchTransactions(b)];
  const ids = await Promise.all(Array.from({ length: 6 }, async () => (await h.zuul.submit({ labels: ['small'] })).id));
  await waitUntil('all fulfilled', () => fulfilled(ids));
  const preferredBy = (l: Launcher): string[] => ids.filter((id) => poolOf.get(preferredPool(id, pools)!.id) === l);
  // Each request touched only by its preferred launcher: the other never raced for its lock.
  expect([[...txA].sort(), [...txB].sort()]).toEqual([preferredBy(a).sort(), preferredBy(b).sort()]);

  // B hangs with its records still there: its share waits for A's bounded delay.
  await b.kernel.stop();
  h.launchers = [a];
  const silent: PoolComponentRecord = { ...pools.find((p) => p.hostname === 'fleet-b')!, hostname: 'fleet-c', id: 'fleet-c-fleet-main' };
  await h.client.create(`${componentPath('pool')}/fleet-c-`, serializeComponent(silent), { ephemeral: true, sequential: true });
  const withSilent = [...pools.filter((p) => p.hostname === 'fleet-a'), silent];
  const more: string[] = [];
  while (more.length < 6 && more.filter((id) => preferredPool(id, withSilent)!.id === silent.id).length < 2) {
    more.push((await h.zuul.submit({ labels: ['small'] })).id);
  }
  expect(more.some((id) => preferredPool(id, withSilent)!.id === silent.id)).toBe(true);
  await waitUntil('all fulfilled beside a silent pool', () => fulfilled(more));
});
