/**
 * The product's promise for metastatic, end to end through the engine: two launcher kernels run
 * the same metastatic provider on one ZooKeeper while a Zuul-style requestor keeps 20 requests
 * outstanding; the kernels are restarted one after the other (B starts, A stops, A starts, B
 * stops). Backing nodes come from a static launcher through ordinary node requests, and a short
 * `max-age` makes launchers release backing nodes the other one still has records of (the seed
 * bug). Every request must be fulfilled, no (backing node, slot) pair or node may be handed out
 * twice at once, and no backing node may be left held once the load is gone.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

jest.setTimeout(120_000);

const h = new EngineHarness();

const BACKING_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const backingBody =
  `labels:\n  - name: backing\nproviders:\n  - name: static-backing\n    driver: static\n    pools:\n      - name: main\n        nodes:\n` +
  BACKING_HOSTS.map((host) => `          - name: ${host}\n            labels: [backing]\n            host-key-checking: false\n`).join('');
const metaBody =
  `labels:\n  - name: user-label\nproviders:\n  - name: meta\n    driver: metastatic\n    pools:\n      - name: main\n        labels:\n` +
  `          - name: user-label\n            backing-label: backing\n            max-parallel-jobs: 4\n            grace-time: 1\n            max-age: 3\n`;

beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterAll(async () => h.close());

/** Backing nodes currently held by the metastatic provider (in-use with our user_data). */
async function heldBackingNodes(): Promise<string[]> {
  return (await h.nodes((n) => n.provider === 'static-backing' && n.state === 'in-use')).map((n) => n.id as string);
}

describe('metastatic through the engine', () => {
  it('rolling restart of two kernels under load: every request fulfilled, no slot twice, no backing node leaked', async () => {
    await h.startLauncher('backing', backingBody);
    await waitUntil('backing nodes ready', async () => (await h.nodes((n) => n.state === 'ready')).length === BACKING_HOSTS.length);
    const kernels = new Map<string, Launcher>();
    kernels.set('A', await h.startLauncher('meta-a', metaBody));

    const inUseNodes = new Set<string>();
    const inUseSlots = new Set<string>();
    let doubleBooked = 0;
    let fulfilled = 0;
    let failed = 0;
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const sub = await h.zuul.submit({ labels: ['user-label'] });
        const req = await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 60_000);
        if (req.state !== 'fulfilled') {
          failed++;
          await h.zuul.cancel(sub.id);
          continue;
        }
        const set = await h.zuul.accept(req);
        fulfilled++;
        const slots = set.nodes.map((n) => `${(n.driver_data as { backing_node?: string } | null)?.backing_node}#${n.slot}`);
        for (const [i, node] of set.nodes.entries()) {
          if (inUseNodes.has(node.id as string) || inUseSlots.has(slots[i])) doubleBooked++;
          inUseNodes.add(node.id as string);
          inUseSlots.add(slots[i]);
        }
        await sleep(30);
        for (const [i, node] of set.nodes.entries()) {
          inUseNodes.delete(node.id as string);
          inUseSlots.delete(slots[i]);
        }
        await h.zuul.release(set);
      }
    };
    const load = Array.from({ length: 20 }, () => worker());

    const until = async (n: number): Promise<void> => {
      await waitUntil(`${n} requests fulfilled`, async () => fulfilled >= n, 60_000);
    };
    await until(20);
    kernels.set('B', await h.startLauncher('meta-b', metaBody));
    await until(50);
    await kernels.get('A')!.kernel.stop();
    await until(80);
    kernels.set('A', await h.startLauncher('meta-a2', metaBody));
    await until(110);
    await kernels.get('B')!.kernel.stop();
    await until(140);
    stop = true;
    await Promise.all(load);

    expect(failed).toBe(0);
    expect(doubleBooked).toBe(0);
    // Load gone: after grace-time every backing node is released (back to the static provider).
    await waitUntil('all backing nodes released', async () => (await heldBackingNodes()).length === 0, 30_000);
    await waitUntil('no metastatic node left', async () => (await h.nodes((n) => n.provider === 'meta')).length === 0, 30_000);
    // No request left unserved (a backing request may still be finishing: wait for it).
    await waitUntil('no request left unserved', async () => (await h.zk.getNodeRequests()).every((r) => r.state === 'fulfilled'), 30_000);
  });
});
