/**
 * The launching engine with the OpenStack driver against the API simulator: requests fulfilled by
 * real HTTP launches, nodes deleted with their servers, a quota refusal that pauses, leaks reaped.
 */
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { EngineHarness, waitUntil } from '../support/engine-harness';
import { writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { OpenStackSimulator } from '../support/openstack-simulator/openstack-simulator';

const h = new EngineHarness();
let sim: OpenStackSimulator;

beforeAll(async () => h.open());
beforeEach(async () => {
  await h.reset();
  sim = await new OpenStackSimulator({ buildMs: 100, deleteMs: 50 }).start();
  process.env.OS_CLIENT_CONFIG_FILE = writeCloudsYaml(sim);
});
afterEach(async () => {
  await h.stopLaunchers();
  await sim.stop();
});
afterAll(async () => h.close());

const CONFIG = `
labels:
  - name: small
providers:
  - name: sim
    driver: openstack
    cloud: sim
    region-name: RegionOne
    rate: 0
    cloud-images:
      - name: ubuntu
        image-name: ubuntu-noble
        username: ubuntu
    pools:
      - name: main
        max-servers: 5
        networks: [private]
        host-key-checking: false
        labels:
          - {name: small, cloud-image: ubuntu, min-ram: 1024}
`;

describe('engine + openstack driver', () => {
  it('fulfils a request with a real server and deletes it with the node', async () => {
    await h.startLauncher('a', CONFIG);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 20000);
    expect(req.state).toBe('fulfilled');
    const node = (await h.zk.getNode(req.nodes[0]))!;
    const [srv] = sim.state.liveServers();
    expect(node).toMatchObject({ state: 'ready', external_id: srv.id, username: 'ubuntu', resources: { instances: 1, cores: 1, ram: 2048 } });
    expect(srv.metadata.nodepool_node_id).toBe(node.id);
    expect(node.public_ipv4).toMatch(/^198\.51\.100\./);
    const set = await h.zuul.accept(req);
    await h.zuul.release(set);
    await waitUntil('node deleted', async () => !(await h.zk.getNode(node.id as string)));
    await waitUntil('server purged', async () => sim.state.servers.size === 0 && sim.state.floatingIps.size === 0);
  });

  it('at cloud quota the request waits and is served once capacity frees', async () => {
    sim.state.quota.instances = 2;
    const sid = (await import('node:crypto')).randomUUID();
    sim.state.servers.set(sid, { id: sid, name: 'foreign', status: 'ACTIVE', flavorId: '1', imageId: sim.state.images[0].id, metadata: {}, az: 'nova', hostId: 'h', keyName: null, userData: null, securityGroups: [], networkIds: [], fault: null, created: Date.now(), request: {} });
    await h.startLauncher('a', CONFIG);
    const first = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small'] })).id, ['fulfilled', 'failed'], 20000);
    expect(first.state).toBe('fulfilled');
    const held = await h.zuul.accept(first);
    const second = await h.zuul.submit({ labels: ['small'] });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await h.zk.getNodeRequest(second.id))?.state).not.toBe('failed');
    expect(sim.state.liveServers()).toHaveLength(2);
    sim.state.purgeServer(sid);
    const served = await h.zuul.waitFor(second.id, ['fulfilled', 'failed'], 20000);
    expect(served.state).toBe('fulfilled');
    await h.zuul.release(held);
  });

  it('reaps a leaked server tagged with our provider and an unknown node id', async () => {
    const launcher = await h.startLauncher('a', CONFIG, { cleanupIntervalMs: 3_600_000 });
    const provider = launcher.engine.runtimes.get('sim')!.provider as OpenstackProvider;
    const leakId = await provider.resources.client.createServer({ name: 'np9999999999', imageRef: sim.state.images[0].id, flavorRef: '1', metadata: { nodepool_provider_name: 'sim', nodepool_node_id: '9999999999', nodepool_pool_name: 'main' } });
    await provider.resources.client.createServer({ name: 'pet', imageRef: sim.state.images[0].id, flavorRef: '1', metadata: {} });
    const cleanup = launcher.engine.cleanup!;
    await cleanup.idle();
    await cleanup.pass();
    expect(sim.state.servers.has(leakId)).toBe(true);
    await cleanup.pass();
    await waitUntil('leak gone', async () => !sim.state.servers.has(leakId));
    expect(sim.state.liveServers().map((s) => s.name)).toEqual(['pet']);
  });

  it('reaps an unbound floating IP with clean-floating-ips (two passes)', async () => {
    const launcher = await h.startLauncher('a', CONFIG.replace('    rate: 0\n', '    rate: 0\n    clean-floating-ips: true\n'), { cleanupIntervalMs: 3_600_000 });
    const cleanup = launcher.engine.cleanup!;
    await cleanup.idle();
    const fip = sim.state.addFloatingIp(sim.state.network('public').id, null);
    await cleanup.pass();
    expect(sim.state.floatingIps.has(fip.id)).toBe(true);
    await cleanup.pass();
    expect(sim.state.floatingIps.has(fip.id)).toBe(false);
  });

  it('availability-zones: each request launches into one listed zone, all its nodes together', async () => {
    // The cloud lists only `nova`; the pool's zones must win over the cloud's list.
    await h.startLauncher('a', CONFIG.replace('        max-servers: 5\n', '        max-servers: 5\n        availability-zones: [az2, az3]\n'));
    for (let i = 0; i < 2; i++) {
      const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['small', 'small'] })).id, ['fulfilled', 'failed'], 20000);
      expect(req.state).toBe('fulfilled');
      const nodes = await Promise.all(req.nodes.map(async (id) => (await h.zk.getNode(id))!));
      const zones = new Set(nodes.map((n) => sim.state.servers.get(String(n.external_id))?.az));
      expect(zones.size).toBe(1);
      expect(['az2', 'az3']).toContain([...zones][0]);
      expect(nodes.map((n) => n.az)).toEqual([...zones, ...zones]);
      await h.zuul.release(await h.zuul.accept(req));
    }
  });
});
