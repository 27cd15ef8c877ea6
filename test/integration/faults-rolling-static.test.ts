/**
 * Fault test (issue 8, part 4): rolling restart of two launchers running the same static
 * provider under a steady load. A runs; B starts; A stops (graceful: hands back what it holds);
 * A starts again; B stops. Static hosts never go away, so at the end exactly their slots must be
 * registered, ready and unallocated; on the way every request is served, no node and no host slot
 * is handed to two jobs at once, and no lock is left behind.
 */
import type { Launcher } from '../../src/launcher/create-launcher';
import { EngineHarness } from '../support/engine-harness';
import { expectSettled, RequestLoad } from '../support/fault-load';
import { FAULT_SCALE, scaled } from '../support/fault-scale';

jest.setTimeout(180_000 * FAULT_SCALE);

const h = new EngineHarness();
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const SLOTS = 2;
const body =
  `labels:\n  - name: small\n  - name: big\nproviders:\n  - name: static-a\n    driver: static\n    pools:\n      - name: main\n        nodes:\n` +
  HOSTS.map((host, i) => `          - name: ${host}\n            labels: [small${i % 2 ? ', big' : ''}]\n            max-parallel-jobs: ${SLOTS}\n            host-key-checking: false\n`).join('');

beforeAll(async () => h.open());
afterAll(async () => h.close());

describe('rolling restart of two launchers (static provider) under load', () => {
  it('every request served, no host slot handed out twice, all slots back at the end', async () => {
    const launchers = new Map<string, Launcher>();
    launchers.set('A', await h.startLauncher('a', body));
    const load = new RequestLoad(h.zuul, h.zk, {
      labels: [['small'], ['big'], ['small', 'big']],
      loops: 6,
      holdMs: 100,
      resourceKey: (n) => `${n.hostname}#${n.slot}`,
    });
    load.start();
    const more = async (n: number): Promise<void> => load.waitFulfilled(load.fulfilled + scaled(n), 90_000 * FAULT_SCALE);
    const stop = async (name: string): Promise<void> => {
      const l = launchers.get(name)!;
      await l.kernel.stop();
      h.launchers = h.launchers.filter((x) => x !== l);
    };
    await more(15);
    launchers.set('B', await h.startLauncher('b', body));
    await more(20);
    await stop('A');
    await more(20);
    launchers.set('A', await h.startLauncher('a2', body));
    await more(20);
    await stop('B');
    await more(20);
    const report = await load.stop();
    expect(report.lost).toEqual([]);
    expect(report.doubleAllocated).toEqual([]);
    expect(report.failed).toBe(0);
    await expectSettled(h.client, h.zk, { readyNodes: HOSTS.length * SLOTS });
  });
});
