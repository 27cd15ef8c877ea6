/**
 * Issue 17: a launcher leaves another launcher's node creates unread only while the component
 * records show that no other launcher may create nodes of a provider it runs. On a real
 * ZooKeeper (the rule needs persistent watches: with one-shot ones it always says yes).
 */
import { LauncherFleetImpl } from '../../src/launcher/launcher-fleet-impl';
import type { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../support/capture-logger';
import { EngineHarness } from '../support/engine-harness';

const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const PY = '10.0.1 a0d1eb5';
const TS = '0.1.0 nodepool-ts';
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

async function register(client: ZkClient, kind: 'launcher' | 'pool', hostname: string, version: string, provider?: string): Promise<string> {
  const body: Record<string, unknown> = { hostname, kind, state: 'running', version, model_api: 0 };
  if (provider) Object.assign(body, { id: `${hostname}-${provider}`, name: 'main', provider_name: provider, supported_labels: [], priority: 100, paused: false });
  return client.create(`/nodepool/components/${kind}/${hostname}`, Buffer.from(JSON.stringify(body)), { sequential: true, ephemeral: true });
}
describe('LauncherFleetImpl.othersMayCreateNodesOf (issue 17: which node creates may stay unread)', () => {
    let client: ZkClient;
    let clock: number;
    let fleet: LauncherFleetImpl;
    let me: string | undefined;
    beforeEach(async () => {
      client = h.client;
      await client.deleteRecursive('/nodepool/components').catch(() => undefined);
      await client.ensurePath('/nodepool/components/launcher');
      await client.ensurePath('/nodepool/components/pool');
      clock = 1_000_000;
      me = undefined;
      fleet = new LauncherFleetImpl({ client, logger: new CaptureLogger(), now: () => clock, ownLauncher: () => me, ownPool: (id) => id === 'me-mine' });
    });
    afterEach(() => fleet.stop());

    const followed = (p: string): boolean => p === 'mine';
    /** A nodepool-ts launcher record announcing `providers`, or one that announced nothing yet. */
    const tsLauncher = (hostname: string, providers?: string[]): Promise<string> => {
      const body: Record<string, unknown> = { hostname, kind: 'launcher', state: 'running', version: TS, model_api: 0 };
      if (providers) Object.assign(body, { nodepool_ts_providers: providers.map((name) => ({ name, driver: 'static', state: 'running' })), nodepool_ts_announces_providers: true });
      return client.create(`/nodepool/components/launcher/${hostname}`, Buffer.from(JSON.stringify(body)), { sequential: true, ephemeral: true });
    };
    const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

    test('no: only nodepool-ts launchers, none of the others announcing a provider we run', async () => {
      me = nameOf(await tsLauncher('me', ['mine']));
      await register(client, 'pool', 'me', TS, 'mine');
      await tsLauncher('other', ['theirs']);
      await register(client, 'pool', 'other', TS, 'theirs');
      await fleet.start();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(false);
      // Without knowing our own record: yes.
      me = undefined;
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
    });

    test('yes: another nodepool-ts launcher announces a provider we run, or announced nothing yet', async () => {
      me = nameOf(await tsLauncher('me', ['mine']));
      const other = await tsLauncher('other', ['theirs', 'mine']);
      await fleet.start();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
      await client.delete(other);
      await tsLauncher('starting');
      await settle();
      clock += 60_001; // past the departed launcher's window (next test)
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
    });

    test('yes: a pool not ours serves a provider we run (a launcher record may be missing)', async () => {
      me = nameOf(await tsLauncher('me', ['mine']));
      await register(client, 'pool', 'other', TS, 'mine');
      await fleet.start();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
    });

    test('yes: any launcher that is not nodepool-ts (it starts providers before registering pools)', async () => {
      me = nameOf(await tsLauncher('me', ['mine']));
      await register(client, 'launcher', 'py', PY);
      await fleet.start();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
      clock += 600_000; // past its starting grace: still yes
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
    });

    test('yes for a while after a nodepool-ts launcher record vanished (a new session may create before it registers)', async () => {
      me = nameOf(await tsLauncher('me', ['mine']));
      const other = await tsLauncher('other', ['theirs']);
      await fleet.start();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(false);
      await client.delete(other);
      await settle();
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(true);
      clock += 60_001;
      expect(fleet.othersMayCreateNodesOf(followed)).toBe(false);
    });
  });
