/**
 * Crash-resume on the REAL testbed (issue 17): a launcher process is SIGKILLed in the middle of 20
 * OpenStack launches; the survivor resumes them once the dead launcher's session expired. Every
 * request is fulfilled by the nodes the dead launcher created, with the same servers: no extra
 * server, none leaked. Nova's boots of 20 servers set its pace (about 2 minutes here, 60 s of
 * it until Nova has them all ACTIVE), too long for every CI run: it runs when
 * NODEPOOL_TS_LONG_TESTBED=1 and the testbed is up.
 */
import { trace } from '@opentelemetry/api';
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import type { NodepoolConfig } from '../../src/plugins/nodepool-config';
import { runStateMachine } from '../../src/plugins/run-state-machine';
import { CaptureLogger } from '../support/capture-logger';
import { EngineHarness, waitUntil } from '../support/engine-harness';
import { startLauncherProcess, type LauncherProcess } from '../support/launcher-process';
import { detectTestbed, lockTestbed } from '../support/openstack-testbed';
import { skipBecause } from '../support/skip-reasons';
import { openstackProviderConfig, RecordingMetrics } from '../support/openstack-simulator/openstack-fixture';

jest.setTimeout(400_000);
const long = process.env.NODEPOOL_TS_LONG_TESTBED === '1';
if (!long) skipBecause('a 2-minute scale test on the OpenStack testbed; `npm run test:faults` (or NODEPOOL_TS_LONG_TESTBED=1) runs it');
const testbed = long ? detectTestbed() : { available: false as const, reason: 'not asked for' };
const h = new EngineHarness();
const N = 20;

const PROVIDER = `
name: resume-tb
driver: openstack
cloud: testbed
region-name: RegionOne
rate: 0.05
cloud-images:
  - name: tiny
    username: cirros
pools:
  - name: main
    max-servers: ${N}
    networks: [priv]
    host-key-checking: false
    labels:
      - {name: tiny, cloud-image: tiny, flavor-name: m1.tiny}
`;
const CONFIG = `labels:\n  - name: tiny\nproviders:\n${PROVIDER.trim().split('\n').map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)).join('\n')}\n`;

interface Limits { limits: { absolute: { totalInstancesUsed: number; maxTotalInstances: number } } }

(testbed.available ? describe : describe.skip)('crash-resume on the real testbed', () => {
  let release = (): void => undefined;
  let victim: LauncherProcess | undefined;
  let observer: OpenstackProvider;
  let quotaBefore = 10;

  beforeAll(async () => {
    release = await lockTestbed();
    process.env.OS_CLIENT_CONFIG_FILE = testbed.available ? testbed.cloudsFile : '';
    await h.open();
    // Reads the cloud (servers, quota) for the test; it launches nothing.
    const config = openstackProviderConfig(PROVIDER.replace('driver: openstack\n', ''));
    const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
    observer = new OpenstackProvider(config, { zk: h.zk, logger: new CaptureLogger(), tracer: trace.getTracer('test'), metrics: new RecordingMetrics(), config: whole });
    await observer.start();
  });
  afterAll(async () => {
    await victim?.kill9();
    await observer?.stop();
    await h.close();
    release();
  });

  const session = (): OpenstackProvider['resources']['client']['session'] => observer.resources.client.session;
  const setInstances = async (n: number): Promise<void> => {
    await session().request('compute', { method: 'PUT', path: `/os-quota-sets/${String(session().projectId)}`, body: { quota_set: { instances: n } } });
  };
  const ourServers = async (): Promise<string[]> =>
    (await observer.resources.client.listServers()).filter((s) => s.metadata?.nodepool_provider_name === 'resume-tb' && s.status !== 'DELETED').map((s) => s.id);

  it('the survivor resumes 20 launches of a killed launcher with the same servers', async () => {
    expect(await ourServers()).toEqual([]);
    const limits = ((await session().request('compute', { method: 'GET', path: '/limits' })).body as Limits).limits.absolute;
    quotaBefore = limits.maxTotalInstances;
    await setInstances(Math.max(quotaBefore, limits.totalInstancesUsed + N));
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (what: string): void => {
      phases.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    try {
      victim = await startLauncherProcess(h.writeConfig('victim', CONFIG), 'victim');
      const ids = await Promise.all(Array.from({ length: N }, async () => (await h.zuul.submit({ labels: ['tiny'] })).id));
      // Killed once every launch has its server, while (most) still boot.
      const launched = await waitUntil('servers created', async () => {
        const nodes = await h.nodes((n) => n.external_id !== null);
        return nodes.length === N ? nodes : undefined;
      }, 60_000);
      phase('servers created');
      await victim.kill9();
      victim = undefined;
      const serverOf = new Map(launched.map((n) => [n.id as string, n.external_id]));
      const building = (await h.nodes((n) => n.state === 'building')).length;
      expect(building).toBeGreaterThan(0);

      // When Nova has them all ACTIVE: the boots, not the resume, set the pace here.
      void waitUntil('servers active', async () => {
        const servers = (await observer.resources.client.listServers()).filter((s) => s.metadata?.nodepool_provider_name === 'resume-tb');
        return servers.length === N && servers.every((s) => s.status === 'ACTIVE');
      }, 240_000).then(() => phase('all ACTIVE in Nova'), () => undefined);
      await h.startLauncher('survivor', CONFIG, { handoverCheckMs: 500 });
      const done = await Promise.all(ids.map((id) => h.zuul.waitFor(id, ['fulfilled', 'failed'], 180_000)));
      phase('all fulfilled');
      expect(done.map((r) => r.state)).toEqual(ids.map(() => 'fulfilled'));
      const used = done.flatMap((r) => r.nodes);
      // The nodes the victim created, each with its own server: nothing launched again.
      expect([...used].sort()).toEqual([...serverOf.keys()].sort());
      for (const id of used) expect((await h.zk.getNode(id))?.external_id).toBe(serverOf.get(id));
      expect((await ourServers()).sort()).toEqual([...serverOf.values()].map(String).sort());
      for (const r of done) await h.zuul.release(await h.zuul.accept(r));
      await waitUntil('servers deleted', async () => (await ourServers()).length === 0 && (await h.nodes()).length === 0, 120_000);
      phase('all deleted');
      console.info(`crash-resume on the testbed: ${building} of ${N} launches resumed after the kill; ${phases.join(', ')}`);
    } finally {
      await h.stopLaunchers();
      // After a failure: what is left goes, so the quota can be put back and later files start clean.
      const left = await ourServers();
      await Promise.allSettled(left.map(async (id) => runStateMachine(observer.getDeleteStateMachine(id, new CaptureLogger()), { timeoutMs: 120_000, pollMs: 1000 })));
      await setInstances(quotaBefore);
    }
  });
});
