/**
 * The OpenStack provider driven by NodeLauncher and NodeDeleter, against a real ZooKeeper and the
 * OpenStack API simulator: what lands in the cloud and in the node record (floating IPs, volumes,
 * private clouds), retries after ERROR, launch timeout, quota, console log on nodescan failure.
 * Faults are in openstack-faults.test.ts.
 */
import { StateMachineTimeoutError } from '../../src/plugins/run-state-machine';
import { QuotaError } from '../../src/plugins/state-machine';
import { OpenstackLaunchHarness } from '../support/openstack-simulator/launch-harness';
import { simProviderYaml } from '../support/openstack-simulator/openstack-fixture';

jest.setTimeout(30000);

const h = new OpenstackLaunchHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());
beforeEach(async () => h.reset());
afterEach(async () => h.teardown());

describe('OpenStack launch', () => {
  test('boots an ACTIVE server with our name, metadata, flavor, image, network and a floating IP; delete cleans up', async () => {
    const provider = await h.startProvider();
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });

    const [srv] = h.sim.state.liveServers();
    expect(srv.name).toBe(`np${node.id}`);
    expect(srv.metadata).toEqual({
      // Dynamic properties from the request in ZooKeeper, printed as Python would; the one naming
      // an unknown field is skipped.
      groups: 'sim-provider,ubuntu-noble,small', owner: 'ci', request_info: `req-${String(h.request.id)}`, trace: "ev-42 ['small'] tenant-a",
      nodepool_node_id: node.id, nodepool_pool_name: 'main', nodepool_provider_name: 'sim-provider',
    });
    expect(h.logger.lines.find((l) => l.msg === 'skipping dynamic instance property')?.fields).toMatchObject({ key: 'broken', field: 'request.no_such_field' });
    expect(h.sim.state.flavors.find((f) => f.id === srv.flavorId)?.name).toBe('m1.small');
    expect(srv.imageId).toBe(h.sim.state.images.find((i) => i.name === 'ubuntu-noble')?.id);
    expect(srv.networkIds).toEqual([h.sim.state.network('private').id]);
    expect(srv.keyName).toBe('nodepool');
    const [fip] = [...h.sim.state.floatingIps.values()];
    const [port] = [...h.sim.state.ports.values()];
    expect(fip).toMatchObject({ port_id: port.id, floating_network_id: h.sim.state.network('public').id, status: 'ACTIVE' });

    const body = await h.rawBody(node.id as string);
    expect(body).toMatchObject({
      state: 'ready', external_id: srv.id, interface_ip: fip.floating_ip_address, public_ipv4: fip.floating_ip_address,
      private_ipv4: port.fixed_ips[0].ip_address, public_ipv6: null, az: 'nova', host_id: srv.hostId, cloud: 'sim', region: 'RegionOne',
      resources: { instances: 1, cores: 1, ram: 2048 }, username: 'ubuntu', image_id: 'ubuntu', connection_type: 'ssh', connection_port: 22,
      host_keys: [],
    });

    await h.remove(provider, node);
    expect(await h.client.exists(`/nodepool/nodes/${node.id}`)).toBeNull();
    await h.expectNoLeaks();
    // Every API call is timed, labelled by resource, never by id.
    const calls = h.metrics.observations.filter((o) => o.name === 'nodepool_openstack_api_seconds');
    expect(calls.find((o) => o.labels.method === 'POST' && o.labels.resource === 'servers')).toMatchObject({ labels: { provider: 'sim-provider', status: '202' } });
    expect(calls.find((o) => o.labels.resource === 'auth')?.labels.status).toBe('201');
    expect(new Set(calls.map((o) => o.labels.resource))).toEqual(new Set(['auth', 'servers', 'flavors', 'images', 'networks', 'ports', 'floatingips']));
  });

  test('a floating IP Neutron leaves DOWN (no L3 agent) is used once Nova shows it', async () => {
    const provider = await h.startProvider();
    h.sim.state.boundFloatingIpStatus = 'DOWN';
    const node = await h.buildingNode(provider);
    expect((await h.launch(provider, node)).state).toBe('ready');
    const [fip] = [...h.sim.state.floatingIps.values()];
    expect(fip.status).toBe('DOWN');
    expect((await h.rawBody(node.id as string)).public_ipv4).toBe(fip.floating_ip_address);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('boot-from-volume: the image goes into a volume mapping; resources count the volume; it goes with the server', async () => {
    const provider = await h.startProvider(simProviderYaml({ poolExtra: 'host-key-checking: false', labelExtra: 'boot-from-volume: true\n        volume-size: 20' }));
    const node = await h.buildingNode(provider);
    expect((await h.launch(provider, node)).state).toBe('ready');
    const [srv] = h.sim.state.liveServers();
    expect(srv.request).toMatchObject({
      imageRef: '',
      block_device_mapping_v2: [{ boot_index: '0', source_type: 'image', destination_type: 'volume', uuid: srv.imageId, volume_size: '20', delete_on_termination: true }],
    });
    expect((await h.rawBody(node.id as string)).resources).toEqual({ instances: 1, cores: 1, ram: 2048, volumes: 1, 'volume-gb': 20 });
    expect([...h.sim.state.volumes.values()].map((v) => v.size)).toEqual([20]);
    await h.remove(provider, node);
    await h.expectNoLeaks();
    expect(h.sim.state.volumes.size).toBe(0);
  });

  test('without auto-floating-ip the server keeps its fixed address only', async () => {
    const provider = await h.startProvider(simProviderYaml({ poolExtra: 'host-key-checking: false\n    auto-floating-ip: false' }));
    const node = await h.buildingNode(provider);
    expect((await h.launch(provider, node)).state).toBe('ready');
    expect(h.sim.state.floatingIps.size).toBe(0);
    const body = await h.rawBody(node.id as string);
    expect(body.interface_ip).toMatch(/^10\.0\.0\./);
    expect(body.public_ipv4).toBeNull();
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('clouds.yaml private: true → no floating IP, the private address is the interface', async () => {
    const provider = await h.startProvider(undefined, { private: true });
    const node = await h.buildingNode(provider);
    expect((await h.launch(provider, node)).state).toBe('ready');
    expect(h.sim.state.floatingIps.size).toBe(0);
    expect(await h.rawBody(node.id as string)).toMatchObject({ interface_ip: expect.stringMatching(/^10\.0\.0\./), public_ipv4: null });
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('ERROR servers are deleted and the h.launch retried on the same node', async () => {
    const provider = await h.startProvider();
    h.sim.state.errorQueue.push('No valid host was found.', 'No valid host was found.');
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 3, statsKey: 'ready' });
    expect(h.serverCreates()).toBe(3);
    const live = h.sim.state.liveServers();
    expect(live).toHaveLength(1);
    expect((await h.rawBody(node.id as string)).external_id).toBe(live[0].id);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('a server deleted behind our back while booting fails the attempt; the retry succeeds', async () => {
    const provider = await h.startProvider();
    h.sim.state.hangNext = 1;
    const node = await h.buildingNode(provider);
    const run = h.launch(provider, node);
    while (h.sim.state.servers.size === 0) await new Promise((r) => setTimeout(r, 10));
    h.sim.state.purgeServer([...h.sim.state.servers.keys()][0]);
    const result = await run;
    expect(result).toMatchObject({ state: 'ready', attempts: 2 });
    expect(h.serverCreates()).toBe(2);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('launch-retries bounds the attempts: all ERROR → failed; the last server is deleted with the node', async () => {
    const provider = await h.startProvider(simProviderYaml({ launchRetries: 2, poolExtra: 'host-key-checking: false' }));
    h.sim.state.errorQueue.push('No valid host was found.', 'No valid host was found.', 'unused');
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result.state).toBe('failed');
    expect(result.attempts).toBe(2);
    expect(result.error?.message).toContain('No valid host was found');
    expect(h.serverCreates()).toBe(2);
    expect(h.sim.state.liveServers()).toHaveLength(1);
    expect((await h.rawBody(node.id as string))).toMatchObject({ state: 'failed', external_id: h.sim.state.liveServers()[0].id });
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('launch-timeout: the hung server is deleted before the next attempt', async () => {
    const provider = await h.startProvider(simProviderYaml({ launchTimeout: 1, launchRetries: 2, poolExtra: 'host-key-checking: false' }));
    h.sim.state.hangNext = 1;
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toEqual({ state: 'ready', attempts: 2, statsKey: 'ready' });
    expect(h.serverCreates()).toBe(2);
    expect(h.sim.state.liveServers()).toHaveLength(1);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('launch-timeout with no attempt left fails the node; the deleter removes the server', async () => {
    const provider = await h.startProvider(simProviderYaml({ launchTimeout: 1, launchRetries: 1, poolExtra: 'host-key-checking: false' }));
    h.sim.state.hangNext = 1;
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result.state).toBe('failed');
    expect(result.error).toBeInstanceOf(StateMachineTimeoutError);
    expect((await h.rawBody(node.id as string)).external_id).toBe(h.sim.state.liveServers()[0].id);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('over quota: the h.launch is aborted (not failed) and nothing is created', async () => {
    const provider = await h.startProvider();
    h.sim.state.quota.instances = 0;
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result.state).toBe('aborted');
    expect(result.attempts).toBe(0);
    expect(result.error).toBeInstanceOf(QuotaError);
    expect(result.statsKey).toBe('error.quota');
    expect((await h.rawBody(node.id as string)).state).toBe('aborted');
    expect(h.sim.state.servers.size).toBe(0);
  });

  test('an ERROR server whose fault says it exceeds quota aborts the h.launch (after deleting it)', async () => {
    const provider = await h.startProvider();
    h.sim.state.errorQueue.push('Build of instance aborted: Requested resources exceeds quota');
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toMatchObject({ state: 'aborted', attempts: 0, statsKey: 'error.quota' });
    // The engine deletes the aborted node's instance through the deleter.
    expect((await h.rawBody(node.id as string)).external_id).toBe(h.sim.state.liveServers()[0].id);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('nodescan failure with console-log: the server console is logged, then the attempt fails', async () => {
    // A loopback address with nothing listening: the scan is refused (other ranges may be
    // answered by the test machine's network).
    h.sim.state.addNetwork('loop', false, '127.0.0');
    const yamlText = simProviderYaml({ launchRetries: 1, poolExtra: 'auto-floating-ip: false', labelExtra: 'console-log: true' })
      .replace('boot-timeout: 5', 'boot-timeout: 1').replace('networks: [private]', 'networks: [loop]');
    const provider = await h.startProvider(yamlText);
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toMatchObject({ state: 'failed', statsKey: 'error.keyscan' });
    const line = h.logger.lines.find((l) => l.msg === 'console log of the unreachable server');
    expect(line?.fields).toMatchObject({ external_id: node.external_id, console: `console of np${String(node.id)}\n` });
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });

  test('a Nova 400 (a cached network was replaced) clears the caches; the retry uses the new one', async () => {
    const provider = await h.startProvider();
    const first = await h.buildingNode(provider);
    expect((await h.launch(provider, first)).state).toBe('ready');
    await h.remove(provider, first);
    // The cloud's admin recreates the network under the same name.
    h.sim.state.networks.delete(h.sim.state.network('private').id);
    const renewed = h.sim.state.addNetwork('private', false, '10.0.1');
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(result).toMatchObject({ state: 'ready', attempts: 2 });
    expect(h.sim.state.liveServers()[0].networkIds).toEqual([renewed.id]);
    expect(h.logger.lines.some((l) => l.msg === 'launch attempt failed' && String(l.fields.err).includes('HTTP 400'))).toBe(true);
    await h.remove(provider, node);
    await h.expectNoLeaks();
  });
});
