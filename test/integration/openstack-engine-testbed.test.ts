import { EngineHarness, waitUntil } from '../support/engine-harness';
import { detectTestbed } from '../support/openstack-testbed';

jest.setTimeout(120000);
const testbed = detectTestbed();
const h = new EngineHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());

const CONFIG = `
labels:
  - name: tiny
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
`;

(testbed.available ? describe : describe.skip)('engine + openstack driver on the real testbed', () => {
  it('fulfils a two-node request with real servers and deletes them when released', async () => {
    process.env.OS_CLIENT_CONFIG_FILE = testbed.available ? testbed.cloudsFile : '';
    await h.startLauncher('a', CONFIG);
    const req = await h.zuul.waitFor((await h.zuul.submit({ labels: ['tiny', 'tiny'] })).id, ['fulfilled', 'failed'], 90000);
    expect(req.state).toBe('fulfilled');
    const nodes = await Promise.all(req.nodes.map((id) => h.zk.getNode(id)));
    for (const n of nodes) expect(n).toMatchObject({ state: 'ready', cloud: 'testbed', region: 'RegionOne', username: 'cirros' });
    console.log(JSON.stringify(nodes.map((n) => ({ id: n?.id, ext: n?.external_id, ip: n?.interface_ip, priv: n?.private_ipv4, az: n?.az, res: n?.resources }))));
    await h.zuul.release(await h.zuul.accept(req));
    await waitUntil('nodes deleted', async () => (await h.nodes()).length === 0, 60000);
  });
});
