import { MemoryZkClient } from '../../test/support/memory-zk-client';
import { CaptureLogger } from '../../test/support/capture-logger';
import { LauncherFleetImpl } from './launcher-fleet-impl';
import { BODY_KINDS, Rng, malformedBody } from '../../test/support/fuzz';

const PY = '10.0.1 a0d1eb5';
const TS = '0.1.0 nodepool-ts';

async function register(client: MemoryZkClient, kind: 'launcher' | 'pool', hostname: string, version: string, provider?: string): Promise<string> {
  const body: Record<string, unknown> = { hostname, kind, state: 'running', version, model_api: 0 };
  if (provider) Object.assign(body, { id: `${hostname}-${provider}`, name: 'main', provider_name: provider, supported_labels: [], priority: 100, paused: false });
  return client.create(`/nodepool/components/${kind}/${hostname}`, Buffer.from(JSON.stringify(body)), { sequential: true, ephemeral: true });
}

/** Lets the one-shot watches of the memory client deliver and the caches re-read. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('LauncherFleetImpl', () => {
  let client: MemoryZkClient;
  let clock: number;
  let fleet: LauncherFleetImpl;

  beforeEach(async () => {
    client = new MemoryZkClient();
    await client.ensurePath('/nodepool/components/launcher');
    await client.ensurePath('/nodepool/components/pool');
    clock = 1_000_000;
    fleet = new LauncherFleetImpl({ client, logger: new CaptureLogger(), startingGraceMs: 60_000, stickyMs: 10_000, now: () => clock });
  });
  afterEach(() => fleet.stop());

  test('nodepool-ts launchers of any version are never foreign', async () => {
    await register(client, 'launcher', 'ts-a', TS);
    await register(client, 'pool', 'ts-a', TS, 'p1');
    await register(client, 'launcher', 'ts-b', '0.0.9 nodepool-ts');
    await fleet.start();
    expect(fleet.foreignLaunchers()).toEqual([]);
    expect(fleet.foreignPresence('p1')).toBeUndefined();
  });

  test('a foreign launcher serves exactly the providers of its pools', async () => {
    await register(client, 'launcher', 'py', PY);
    await register(client, 'pool', 'py', PY, 'p1');
    await register(client, 'pool', 'py', PY, 'p2');
    await fleet.start();
    expect(fleet.foreignLaunchers()).toEqual([{ hostname: 'py', version: PY, providers: ['p1', 'p2'] }]);
    expect(fleet.foreignPresence('p1')).toMatch(/launcher py .* serves p1/);
    expect(fleet.foreignPresence('p3')).toBeUndefined();
  });

  test('a foreign launcher without pools serves everything while starting, nothing after the grace', async () => {
    await register(client, 'launcher', 'py', PY);
    await fleet.start();
    expect(fleet.foreignPresence('any')).toMatch(/starting/);
    clock += 60_001;
    expect(fleet.foreignPresence('any')).toBeUndefined();
  });

  test('a provider stays served for a while after its pool went, while the launcher lives; not once it is gone', async () => {
    await register(client, 'launcher', 'py', PY);
    const pool = await register(client, 'pool', 'py', PY, 'p1');
    await fleet.start();
    const changes: boolean[] = [];
    fleet.onChange((removed) => changes.push(removed));
    await client.delete(pool);
    await settle();
    expect(changes).toContain(true);
    expect(fleet.foreignPresence('p1')).toMatch(/serves p1/);
    clock += 10_001;
    expect(fleet.foreignPresence('p1')).toBeUndefined();
  });

  test('the launcher record gone ends its presence at once, and listeners hear of the removal', async () => {
    const launcher = await register(client, 'launcher', 'py', PY);
    const pool = await register(client, 'pool', 'py', PY, 'p1');
    await fleet.start();
    const changes: boolean[] = [];
    fleet.onChange((removed) => changes.push(removed));
    await client.delete(pool);
    await client.delete(launcher);
    await settle();
    expect(changes.filter((r) => r)).toHaveLength(2);
    expect(fleet.foreignPresence('p1')).toBeUndefined();
  });

  test('foreign pools without a launcher record still count; unreadable records are skipped', async () => {
    await register(client, 'pool', 'old-py', PY, 'p1');
    await client.create('/nodepool/components/launcher/garbage', Buffer.from('{not json'), { sequential: true });
    await fleet.start();
    expect(fleet.foreignPresence('p1')).toMatch(/old-py/);
  });

  test('without a loaded view every provider counts as shared', () => {
    expect(fleet.foreignPresence('p1')).toMatch(/not loaded/);
  });
});

describe('LauncherFleetImpl with malformed component records', () => {
  test('every fuzzed pool or launcher body is either used or skipped, never an exception', async () => {
    const client = new MemoryZkClient();
    await client.ensurePath('/nodepool/components/launcher');
    await client.ensurePath('/nodepool/components/pool');
    const rng = new Rng(20261126);
    const valid = { kind: 'pool', hostname: 'elsewhere', state: 'running', version: '9.0.0', model_api: 1, id: 'x', name: 'main', provider_name: 'p1', supported_labels: ['l'], priority: 100, paused: false };
    for (let i = 0; i < 200; i++) {
      const kind = BODY_KINDS[rng.int(BODY_KINDS.length)];
      await client.create('/nodepool/components/pool/fuzz-', malformedBody(rng, kind, valid), { sequential: true });
      await client.create('/nodepool/components/launcher/fuzz-', malformedBody(rng, kind, { ...valid, kind: 'launcher' }), { sequential: true });
    }
    const fleet = new LauncherFleetImpl({ client, logger: new CaptureLogger() });
    await fleet.start();
    expect(() => fleet.foreignLaunchers()).not.toThrow();
    for (const provider of ['p1', 'static-fuzz', 'x']) expect(() => fleet.foreignPresence(provider)).not.toThrow();
    // Readable records naming p1 still count.
    expect(fleet.foreignPresence('p1')).toBeDefined();
    fleet.stop();
  });
});
