/**
 * The metastatic plugin inside real launcher kernels (createLauncher, plugin loaded from the
 * plugins folder), in a rolling restart: kernels L1 (old) and L2 (new) both run provider `meta`
 * on one ZooKeeper; a third launcher serves the backing label with a static provider.
 *
 * The engine does not launch nodes for launching providers yet, nor call `Provider.cleanup()`
 * periodically, so this test does those two steps itself (NodeLauncher on a node it creates and
 * locks, and `cleanup()` on the engine's provider object); everything else — provider creation
 * and start-up recovery, the deleted-node worker deleting returned nodes (one transaction, then
 * the provider's nodeDeleted frees the slot) — is the
 * engine's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import type { Provider } from '../../src/plugins/driver';
import { NodeLauncher } from '../../src/plugins/node-launcher';
import { Node } from '../../src/zk/models/node';
import type { MetastaticProvider } from '../../plugins/metastatic/src/metastatic-provider';
import { MetastaticHarness, META, OWNER, waitUntil } from '../support/metastatic-harness';
import { CaptureLogger } from '../support/capture-logger';
import { testSettings } from '../support/test-settings';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';

jest.setTimeout(60000);

let server: ZooKeeperServer;
const h = new MetastaticHarness(() => server);
let tmp: string;
let kernels: Launcher[] = [];

beforeAll(async () => {
  server = await startZooKeeper();
  await h.setup();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'metastatic-engine-'));
});
afterEach(async () => {
  await Promise.all(kernels.map((k) => k.kernel.stop()));
  kernels = [];
  await h.reset();
});
afterAll(async () => {
  await h.teardown();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A launcher kernel running only the metastatic provider `meta`. */
async function startMetaKernel(hostname: string): Promise<{ launcher: Launcher; provider: MetastaticProvider }> {
  const file = path.join(tmp, `${hostname}.yaml`);
  fs.writeFileSync(
    file,
    `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n  - name: user-label\n` +
      `providers:\n  - name: ${META}\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
      `          - name: user-label\n            backing-label: backing\n            max-parallel-jobs: 2\n            grace-time: 0\n`,
  );
  const launcher = await createLauncher(testSettings({ config: file, hostname, log: { level: 'error' } }), { engine: { poolPollIntervalMs: 100, deletedNodeIntervalMs: 100 } });
  kernels.push(launcher);
  expect(launcher.configErrors).toEqual([]);
  await launcher.kernel.start();
  // The engine keeps its providers private; the test needs the object to drive launches.
  const providers = (launcher.engine as unknown as { providers: Map<string, Provider> }).providers;
  const provider = providers.get(META) as MetastaticProvider | undefined;
  if (!provider) throw new Error('the engine did not start the metastatic provider');
  return { launcher, provider };
}

/** What the engine's request handler will do: create, lock and launch a node, then unlock it. */
async function launchOn(provider: MetastaticProvider): Promise<Node> {
  // As the engine does: `init` (never deleted by anyone), locked, then `building`. A node created
  // `building` and not yet locked looks like a dead launcher's to the running engines' deleters.
  const node = new Node();
  node.state = 'init';
  node.type = ['user-label'];
  node.provider = META;
  node.pool = 'main';
  await h.zk.createNode(node);
  expect(await h.zk.lockNode(node)).toBeDefined();
  node.state = 'building';
  await h.zk.storeNode(node);
  const pool = provider.config.pools[0];
  const result = await new NodeLauncher({
    zk: h.zk, provider, node, label: 'user-label', pool, settings: provider.launchSettings('user-label', pool), logger: new CaptureLogger(), pollInterval: 20,
  }).run();
  expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
  await h.zk.unlockNode(node);
  return node;
}

/** Node paths of the one-transaction deletes (`deleted` + lock dir + node) a kernel sends from now on. */
function deleteTransactions(launcher: Launcher): string[] {
  const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  const paths: string[] = [];
  const multi = client.multi.bind(client);
  client.multi = async (ops) => {
    if (ops[0]?.op === 'set' && ops.some((o) => o.op === 'delete' && o.path === ops[0].path)) paths.push(ops[0].path);
    return multi(ops);
  };
  return paths;
}

/** Zuul returns the node: `used`, unlocked; the owning engine's deleted-node worker deletes it. */
async function returnNode(node: Node): Promise<void> {
  node.state = 'used';
  await h.zk.storeNode(node);
  await waitUntil(`node ${node.id} deleted by the engine`, async () => !(await h.client.exists(`/nodepool/nodes/${node.id}`)));
}

describe('metastatic in launcher kernels: rolling restart', () => {
  it('L1 releases X while L2 still has a record; L2 serves the next node on a new backing node', async () => {
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const l1 = await startMetaKernel('meta-old');
    const deletes = deleteTransactions(l1.launcher);
    const n1 = await launchOn(l1.provider);
    // Held `building` by its launch throughout: the engine's deleted-node worker never tried it
    // (it used to, on every change of the node, up to 20 times each).
    expect(deletes.filter((p) => p === `/nodepool/nodes/${n1.id}`)).toEqual([]);
    const x = (n1.driver_data as { backing_node: string }).backing_node;
    expect(await h.backing(x)).toMatchObject({ state: 'in-use', contenders: [OWNER], persistent: true });

    const l2 = await startMetaKernel('meta-new'); // recovery in the new kernel
    expect(l2.provider.allocator.describe()).toEqual(l1.provider.allocator.describe());

    await returnNode(n1); // deleted by an engine (one transaction; nodeDeleted frees the slot)
    await l1.provider.cleanup(); // grace-time 0: L1 releases X
    expect((await h.backing(x))?.state ?? 'gone').not.toBe('in-use');
    await l1.launcher.kernel.stop(); // the old kernel goes away; X's lock was persistent, not its
    kernels = kernels.filter((k) => k !== l1.launcher);

    const n2 = await launchOn(l2.provider);
    const y = (n2.driver_data as { backing_node: string }).backing_node;
    expect(y).not.toBe(x);
    expect(l2.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([y]);
    expect(await h.backing(y)).toMatchObject({ state: 'in-use', contenders: [OWNER], persistent: true });

    // The backing lock survives a kernel restart: a third kernel recovers Y with n2 on it.
    await l2.launcher.kernel.stop();
    kernels = kernels.filter((k) => k !== l2.launcher);
    const l3 = await startMetaKernel('meta-newer');
    expect(l3.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([y]);
    await l3.provider.cleanup(); // n2 still on Y: nothing released
    expect(await h.backing(y)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
    await returnNode(n2);
    await l3.provider.cleanup();
    expect((await h.backing(y))?.state ?? 'gone').not.toBe('in-use');
  });
});
