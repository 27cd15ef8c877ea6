/**
 * A node somebody else marked `deleting` (Nodepool's CLI `delete`, which then lists the node
 * again) is deleted by our launcher only after a moment, so that listing never meets it half
 * gone; a node our launcher marked itself goes at once (docs/coexistence.md, Limits).
 */
import { ZkClient } from '../../src/zk/zk-client';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { CaptureLogger } from '../support/capture-logger';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

jest.setTimeout(60000);
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const BODY =
  'labels:\n  - name: small\nproviders:\n  - name: graced\n    driver: static\n    pools:\n      - name: main\n        nodes:\n' +
  '          - name: 127.0.2.1\n            labels: [small]\n            host-key-checking: false\n';

it('waits a moment before deleting a node another client marked deleting', async () => {
  await h.startLauncher('graced', BODY);
  const [node] = await waitUntil('the slot', async () => {
    const ready = await h.nodes((n) => n.state === 'ready');
    return ready.length === 1 && ready;
  });
  // Another process, as the CLI is: lock, store `deleting`, unlock.
  const client = new ZkClient({ hosts: h.server.connectString });
  await client.connect();
  try {
    const cli = new NodepoolZk(client, new CaptureLogger());
    const mine = (await cli.getNode(node.id as string))!;
    expect(await cli.lockNode(mine, { blocking: false })).toBeDefined();
    mine.state = 'deleting';
    mine.state_time = Date.now() / 1000;
    await cli.storeNode(mine);
    await cli.unlockNode(mine);
    // Without the wait our launcher deleted it within milliseconds of the unlock.
    await sleep(1000);
    expect((await cli.getNode(node.id as string))?.state).toBe('deleting');
    await waitUntil('deleted after the wait, and the slot registered again', async () => {
      const nodes = await h.nodes(() => true);
      return !nodes.some((n) => n.id === node.id) && nodes.some((n) => n.state === 'ready');
    });
  } finally {
    await client.close();
  }
});
