/**
 * The launching engine with the OpenStack driver on the REAL testbed (Keystone, Nova with the fake
 * virt driver, Glance, Neutron; test/support/openstack-testbed): real servers for requests, and a
 * real Nova instance quota that pauses the pool while another provider keeps serving.
 */
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';
import { detectTestbed, lockTestbed } from '../support/openstack-testbed';

jest.setTimeout(180000);
const testbed = detectTestbed();
const h = new EngineHarness();
beforeAll(async () => h.open());
beforeEach(async () => h.reset());
afterEach(async () => h.stopLaunchers());
afterAll(async () => h.close());

const CONFIG = `
labels:
  - name: tiny
  - name: small
providers:
  - name: testbed
    driver: openstack
    cloud: testbed
    region-name: RegionOne
    rate: 0.1
    cloud-images:
      - name: tiny
        username: cirros
    pools:
      - name: main
        max-servers: 3
        networks: [priv]
        host-key-checking: false
        labels:
          - {name: tiny, cloud-image: tiny, flavor-name: m1.tiny}
  - name: fake-other
    driver: fake
    pools:
      - name: main
        labels:
          - name: small
`;

interface ComputeLimits { limits: { absolute: { totalInstancesUsed: number; maxTotalInstances: number } } }

(testbed.available ? describe : describe.skip)('engine + openstack driver on the real testbed', () => {
  let release = (): void => undefined;
  beforeAll(async () => {
    release = await lockTestbed();
    process.env.OS_CLIENT_CONFIG_FILE = testbed.available ? testbed.cloudsFile : '';
  });
  afterAll(() => release());

  it('fulfils a two-node request with real servers and deletes them when released', async () => {
    await h.startLauncher('a', CONFIG);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['tiny', 'tiny'] })).id, ['fulfilled', 'failed'], 90000);
    expect(req.state).toBe('fulfilled');
    const nodes = await Promise.all(req.nodes.map((id) => h.zk.getNode(id)));
    for (const n of nodes) {
      expect(n).toMatchObject({ state: 'ready', cloud: 'testbed', region: 'RegionOne', username: 'cirros', resources: { instances: 1, cores: 1, ram: 512 } });
      expect(n?.external_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(n?.private_ipv4).toMatch(/^10\.0\.0\./);
    }
    await h.zuul.release(await h.zuul.accept(req));
    await waitUntil('nodes deleted', async () => (await h.nodes()).length === 0, 60000);
  });

  it('at a real Nova instance quota: nothing fails, the other provider keeps serving, the queue drains as capacity frees', async () => {
    const launcher = await h.startLauncher('a', CONFIG);
    const provider = launcher.engine.runtimes.get('testbed')!.provider as OpenstackProvider;
    const session = provider.resources.client.session;
    const limits = async (): Promise<ComputeLimits['limits']['absolute']> =>
      ((await session.request('compute', { method: 'GET', path: '/limits' })).body as ComputeLimits).limits.absolute;
    const setInstances = async (n: number): Promise<void> => {
      await session.request('compute', { method: 'PUT', path: `/os-quota-sets/${String(session.projectId)}`, body: { quota_set: { instances: n } } });
    };
    // Room for exactly one more server in the project, whatever else is in it.
    await setInstances((await limits()).totalInstancesUsed + 1);
    try {
      const first = await h.zuul.waitFor((await h.zuul.submit({ labels: ['tiny'] })).id, ['fulfilled', 'failed'], 90000);
      expect(first.state).toBe('fulfilled');
      const held = await h.zuul.accept(first);
      const queued = await Promise.all([1, 2].map(async () => h.zuul.submit({ labels: ['tiny'] })));
      // Requests for the other provider's label flow while the OpenStack pool is at quota.
      for (let i = 0; i < 3; i++) {
        const other = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 20000);
        expect(other.state).toBe('fulfilled');
        await h.zuul.release(await h.zuul.accept(other));
      }
      await sleep(3000);
      for (const q of queued) expect((await h.zk.getNodeRequest(q.id))?.state).not.toBe('failed');
      const ours = (await provider.resources.client.listServers()).filter((s) => s.metadata?.nodepool_provider_name === 'testbed' && s.status !== 'DELETED');
      expect(ours).toHaveLength(1);
      // Releasing the held node frees the one slot: the queued requests are served one after the other.
      await h.zuul.release(held);
      const second = await h.zuul.waitFor(queued[0].id, ['fulfilled', 'failed'], 120000);
      expect(second.state).toBe('fulfilled');
      await h.zuul.release(await h.zuul.accept(second));
      const third = await h.zuul.waitFor(queued[1].id, ['fulfilled', 'failed'], 120000);
      expect(third.state).toBe('fulfilled');
      await h.zuul.release(await h.zuul.accept(third));
      await waitUntil('nodes deleted', async () => (await h.nodes((n) => n.provider === 'testbed')).length === 0, 60000);
    } finally {
      await setInstances(10);
    }
  });

  it('reaps a leaked server (our metadata, no node) on the second cleanup pass, never a pet or a node of ours', async () => {
    const launcher = await h.startLauncher('a', CONFIG, { cleanupIntervalMs: 3_600_000 });
    const provider = launcher.engine.runtimes.get('testbed')!.provider as OpenstackProvider;
    const res = provider.resources;
    const ours = await h.zuul.waitFor((await h.zuul.submit({ labels: ['tiny'] })).id, ['fulfilled', 'failed'], 90000);
    expect(ours.state).toBe('fulfilled');
    const held = await h.zuul.accept(ours);
    const base = {
      imageRef: await res.imageId('tiny'),
      flavorRef: (await res.flavorFor(undefined, 'm1.tiny')).id,
      networks: (await res.networkIds(['priv'], 'testbed')).map((uuid) => ({ uuid })),
    };
    const leak = await res.client.createServer({ ...base, name: 'np9999999999', metadata: { nodepool_provider_name: 'testbed', nodepool_node_id: '9999999999', nodepool_pool_name: 'main' } });
    const pet = await res.client.createServer({ ...base, name: 'pet', metadata: {} });
    const alive = async (id: string): Promise<boolean> => (await res.client.listServers()).some((s) => s.id === id && s.status !== 'DELETED');
    try {
      const cleanup = launcher.engine.cleanup!;
      await cleanup.idle();
      // The provider caches the server list for 1 s: let each pass list the servers afresh.
      await sleep(1100);
      await cleanup.pass();
      expect(await alive(leak)).toBe(true);
      await sleep(1100);
      await cleanup.pass();
      await waitUntil('leaked server deleted', async () => !(await alive(leak)), 60000);
      expect(await alive(pet)).toBe(true);
      const node = await h.zk.getNode(ours.nodes[0]);
      expect(node?.state).toBe('in-use');
      expect(await alive(String(node?.external_id))).toBe(true);
    } finally {
      await res.client.deleteServer(pet).catch(() => undefined);
      await h.zuul.release(held);
    }
    await waitUntil('nodes deleted', async () => (await h.nodes((n) => n.provider === 'testbed')).length === 0, 60000);
  });
});
