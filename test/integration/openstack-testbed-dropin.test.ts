/**
 * Drop-in settings of a working Nodepool OpenStack deployment (issue 15) against the REAL
 * OpenStack testbed (test/support/openstack-testbed): availability zones made at test time with a
 * Nova host aggregate, and a CA-signed TLS endpoint (TLS-terminating proxies the test starts in
 * front of the testbed's APIs, with a CA it generates) reached with clouds.yaml `cacert`.
 * Skipped, with the reason, when the testbed is not running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { NodeDeleter } from '../../src/plugins/node-deleter';
import { NodeLauncher, type LaunchResult } from '../../src/plugins/node-launcher';
import type { NodepoolConfig } from '../../src/plugins/nodepool-config';
import { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { CaptureLogger } from '../support/capture-logger';
import { detectTestbed, lockTestbed } from '../support/openstack-testbed';
import { FaultProxy } from '../support/openstack-simulator/fault-proxy';
import { openstackProviderConfig, RecordingMetrics } from '../support/openstack-simulator/openstack-fixture';
import { generateTestCerts, type TestCerts } from '../support/tls-certs';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

jest.setTimeout(120000);

const testbed = detectTestbed();
if (!testbed.available) console.warn(`openstack-testbed drop-in tests skipped: ${testbed.reason}`);
const describeTestbed = testbed.available ? describe : describe.skip;

const PROVIDER = `
name: testbed
cloud: testbed
region-name: RegionOne
rate: 0.05
launch-timeout: 90
launch-retries: 1
cloud-images:
  - name: tiny
    username: cirros
pools:
  - name: main
    networks: [priv]
    host-key-checking: false
    availability-zones: [np-zone]
    labels:
      - {name: tiny, cloud-image: tiny, flavor-name: m1.tiny}
`;

describeTestbed('drop-in settings on the real testbed', () => {
  let server: ZooKeeperServer;
  let client: ZkClient;
  let zk: NodepoolZk;
  let certs: TestCerts;
  let tmp: string;
  const logger = new CaptureLogger();
  let release = (): void => undefined;

  beforeAll(async () => {
    release = await lockTestbed();
    server = await startZooKeeper();
    client = new ZkClient({ hosts: `${server.connectString}/testbed-dropin`, sessionTimeout: 4000 });
    await client.connect(10000);
    await client.ensurePath('/nodepool/nodes');
    zk = new NodepoolZk(client, new CaptureLogger());
    certs = generateTestCerts();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'testbed-dropin-'));
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    certs?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    release();
  });

  async function started(cloudsFile: string): Promise<OpenstackProvider> {
    const config = openstackProviderConfig(PROVIDER);
    const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
    const provider = new OpenstackProvider(config, { zk, logger, tracer: trace.getTracer('test'), metrics: new RecordingMetrics(), config: whole }, {
      env: { OS_CLIENT_CONFIG_FILE: cloudsFile, HOME: '/nonexistent' },
      transport: { attempts: 1 },
    });
    await provider.start();
    return provider;
  }

  async function launch(provider: OpenstackProvider, az: string | null): Promise<{ node: Node; result: LaunchResult }> {
    const node = new Node();
    Object.assign(node, { state: 'building', type: ['tiny'], provider: 'testbed', pool: 'main', launcher: 'testbed-dropin' });
    await zk.createNode(node);
    expect(await zk.lockNode(node)).toBeDefined();
    const pool = provider.config.pools[0];
    const result = await new NodeLauncher({ zk, provider, node, label: 'tiny', pool, settings: provider.launchSettings('tiny', pool), logger, az, pollInterval: 300 }).run();
    return { node, result };
  }

  test('availability zones: a server asked into a zone of a host aggregate lands there; a zone without hosts is refused', async () => {
    const provider = await started(testbed.available ? testbed.cloudsFile : '');
    const session = provider.resources.client.session;
    const services = await session.request('compute', { method: 'GET', path: '/os-services?binary=nova-compute' });
    const host = (services.body as { services: { host: string }[] }).services[0].host;
    const created = await session.request('compute', { method: 'POST', path: '/os-aggregates', body: { aggregate: { name: `np-az-${process.pid}`, availability_zone: 'np-zone' } } });
    const aggregateId = (created.body as { aggregate: { id: number } }).aggregate.id;
    let hostAdded = false;
    try {
      await session.request('compute', { method: 'POST', path: `/os-aggregates/${aggregateId}/action`, body: { add_host: { host } } });
      hostAdded = true;
      provider.resources.zones.clear();
      expect(await provider.getAvailabilityZones()).toContain('np-zone');

      const { node, result } = await launch(provider, 'np-zone');
      expect(result.state).toBe('ready');
      expect(node.az).toBe('np-zone');
      const srv = await provider.resources.client.getServer(String(node.external_id));
      expect(srv['OS-EXT-AZ:availability_zone']).toBe('np-zone');
      expect(await new NodeDeleter({ zk, provider, node, logger, pollInterval: 300 }).run()).toEqual({ deleted: true });

      // Nova refuses a zone no host is in before it makes a server: the attempt fails at once.
      const refused = await launch(provider, 'np-no-such-zone');
      expect(refused.result.state).toBe('failed');
      expect(refused.result.error?.message).toMatch(/availability zone/i);
      expect(await new NodeDeleter({ zk, provider, node: refused.node, logger, pollInterval: 300 }).run()).toEqual({ deleted: true });
    } finally {
      if (hostAdded) await session.request('compute', { method: 'POST', path: `/os-aggregates/${aggregateId}/action`, body: { remove_host: { host } } });
      await session.request('compute', { method: 'DELETE', path: `/os-aggregates/${aggregateId}` });
    }
  });

  // No boot here (a real one costs seconds; the simulator test covers launching over TLS): every
  // API the driver uses is read through the TLS fronts.
  test('TLS: CA-signed endpoints are used with clouds.yaml cacert (Keystone, Nova, Glance, Neutron); without the CA they are refused', async () => {
    const pem = (f: string): string => fs.readFileSync(f, 'utf8');
    const tls = { cert: pem(certs.serverCert), key: pem(certs.serverKey) };
    const ports = { keystone: 5000, nova: 8774, glance: 9292, neutron: 9696 };
    const proxies: Record<string, FaultProxy> = {};
    try {
      for (const [name, port] of Object.entries(ports)) proxies[name] = await FaultProxy.start(`http://127.0.0.1:${port}`, tls);
      // Keystone's catalog is rewritten to the TLS fronts of the other APIs.
      for (const [name, port] of Object.entries(ports)) proxies.keystone.rewrite(`http://127.0.0.1:${port}`, proxies[name].url);
      const original = fs.readFileSync(testbed.available ? testbed.cloudsFile : '', 'utf8').replace('http://127.0.0.1:5000', proxies.keystone.url);
      const withCa = path.join(tmp, 'clouds-ca.yaml');
      fs.writeFileSync(withCa, original.replace('  testbed:\n', `  testbed:\n    cacert: ${certs.ca}\n`));
      const withoutCa = path.join(tmp, 'clouds-noca.yaml');
      fs.writeFileSync(withoutCa, original);

      const provider = await started(withCa);
      const c = provider.resources.client;
      expect((await c.listFlavors()).map((f) => f.name)).toContain('m1.tiny');
      expect((await c.listImages()).map((i) => i.name)).toContain('tiny');
      expect((await c.externalNetworks()).map((n) => n.name)).toContain('ext');
      expect(Array.isArray(await c.listServers())).toBe(true);
      // The calls went to the TLS fronts (the catalog was rewritten), not to the plain ports.
      for (const service of ['compute', 'image', 'network'] as const) expect(await c.session.endpoint(service)).toMatch(/^https:\/\/127\.0\.0\.1:/);

      const refused = await started(withoutCa);
      await expect(refused.resources.client.listServers()).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/);
    } finally {
      for (const p of Object.values(proxies)) await p.stop();
    }
  });
});
