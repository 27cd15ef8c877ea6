/**
 * Crash-resume (issue 17): a launcher process is SIGKILLed while its OpenStack servers boot; the
 * survivor, once the dead launcher's session expired, resumes those launches from the state
 * stored on the nodes instead of deleting the servers and launching new ones. Every request is
 * fulfilled with the very servers the dead launcher created, none created twice, none leaked; a
 * launch whose server broke meanwhile falls back to delete and launch again.
 */
import { EngineHarness, waitUntil } from '../support/engine-harness';
import { startLauncherProcess, type LauncherProcess } from '../support/launcher-process';
import { writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { OpenStackSimulator } from '../support/openstack-simulator/openstack-simulator';

jest.setTimeout(60_000);

const h = new EngineHarness();
let sim: OpenStackSimulator;
let victim: LauncherProcess | undefined;

const N = 4;

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
        max-servers: 10
        networks: [private]
        host-key-checking: false
        labels:
          - {name: small, cloud-image: ubuntu, min-ram: 1024}
`;

beforeAll(async () => {
  await h.open();
  sim = await new OpenStackSimulator({ buildMs: 100, deleteMs: 50 }).start();
  process.env.OS_CLIENT_CONFIG_FILE = writeCloudsYaml(sim);
});
afterAll(async () => {
  await victim?.kill9();
  await h.close();
  await sim.stop();
});

const serverPosts = (): number => sim.seen('compute', 'POST').filter((r) => /\/servers$/.test(r.path)).length;

describe('crash-resume of OpenStack launches', () => {
  it('the survivor resumes a killed launcher\'s launches with the same servers', async () => {
    // The victim's servers stay in BUILD until the test boots them, after the kill.
    sim.state.hangNext = N;
    victim = await startLauncherProcess(h.writeConfig('victim', CONFIG), 'victim');
    const ids = await Promise.all(Array.from({ length: N }, async () => (await h.zuul.submit({ labels: ['small'] })).id));
    // Every launch has its server and stored the state to resume from.
    const building = await waitUntil('servers created', async () => {
      const nodes = await h.nodes((n) => n.state === 'building' && n.nodepool_ts_launch !== null);
      return nodes.length === N ? nodes : undefined;
    }, 20_000);
    const serverOf = new Map(building.map((n) => [n.id as string, n.external_id]));
    await victim.kill9();
    victim = undefined;
    expect(serverPosts()).toBe(N);
    // One server breaks while nobody watches: its resume fails, the node is deleted and its
    // request launches anew. The others finish booting.
    const [brokenNode, brokenServer] = [...serverOf][0];
    serverOf.delete(brokenNode);
    for (const server of sim.state.liveServers()) {
      expect(server.status).toBe('BUILD');
      if (server.id === brokenServer) {
        Object.assign(server, { status: 'ERROR', fault: 'No valid host was found' });
        continue;
      }
      for (const net of server.networkIds) sim.state.addPort(net, server.id, `compute:${server.az}`);
      server.status = 'ACTIVE';
    }

    await h.startLauncher('survivor', CONFIG, { handoverCheckMs: 300 });
    const done = await Promise.all(ids.map((id) => h.zuul.waitFor(id, ['fulfilled', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(ids.map(() => 'fulfilled'));
    const used = done.flatMap((r) => r.nodes);
    expect(new Set(used).size).toBe(N);
    const fresh = used.filter((id) => !serverOf.has(id));
    expect(fresh).toHaveLength(1);
    for (const id of used) {
      const node = (await h.zk.getNode(id))!;
      expect(node).toMatchObject({ state: 'ready', nodepool_ts_launch: null });
      if (id !== fresh[0]) expect(node.external_id).toBe(serverOf.get(id));
    }
    // One new server, for the broken launch only; the broken one deleted, nothing left over.
    expect(serverPosts()).toBe(N + 1);
    const freshServer = (await h.zk.getNode(fresh[0]))!.external_id;
    expect(sim.state.liveServers().map((s) => s.id).sort()).toEqual([...serverOf.values(), freshServer].sort());
    expect(sim.state.liveServers().map((s) => s.id)).not.toContain(brokenServer);

    for (const r of done) await h.zuul.release(await h.zuul.accept(r));
    await waitUntil('servers deleted', async () => sim.state.liveServers().length === 0 && (await h.nodes()).length === 0, 20_000);
  });

  it('a launcher stopped mid-launch (rolling restart) leaves its launches for the next one to resume', async () => {
    await h.reset();
    const posted = serverPosts();
    sim.state.hangNext = 3;
    const a = await h.startLauncher('a', CONFIG);
    const ids = await Promise.all([1, 2, 3].map(async () => (await h.zuul.submit({ labels: ['small'] })).id));
    const building = await waitUntil('servers created', async () => {
      const nodes = await h.nodes((n) => n.state === 'building' && n.nodepool_ts_launch !== null);
      return nodes.length === 3 ? nodes : undefined;
    }, 20_000);
    await a.kernel.stop();
    // Left pending (not re-run at once, which would launch beside the resumed servers).
    for (const id of ids) expect((await h.zk.getNodeRequest(id))?.state).toBe('pending');
    for (const server of sim.state.liveServers()) {
      for (const net of server.networkIds) sim.state.addPort(net, server.id, `compute:${server.az}`);
      server.status = 'ACTIVE';
    }
    await h.startLauncher('b', CONFIG, { handoverCheckMs: 300 });
    const done = await Promise.all(ids.map((id) => h.zuul.waitFor(id, ['fulfilled', 'failed'], 20_000)));
    expect(done.map((r) => r.state)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(done.flatMap((r) => r.nodes).sort()).toEqual(building.map((n) => n.id).sort());
    expect(serverPosts() - posted).toBe(3);
    for (const r of done) await h.zuul.release(await h.zuul.accept(r));
    await waitUntil('servers deleted', async () => sim.state.liveServers().length === 0 && (await h.nodes()).length === 0, 20_000);
  });
});
