/**
 * Drop-in settings of a working Nodepool OpenStack deployment (issue 15), against the API
 * simulator and a real ZooKeeper: clouds.yaml as openstacksdk reads it (TLS `cacert`/`verify`/
 * `cert`/`key` through a TLS-terminating proxy, `regions`, `networks`), a provider without
 * `cloud:`, `config-drive` of provider diskimages, and `nodepool alien-image-list`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import type { NodepoolConfig } from '../../src/plugins/nodepool-config';
import { ZkClient } from '../../src/zk/zk-client';
import { OpenstackProvider } from '../../plugins/openstack/src/openstack-provider';
import { OpenstackLaunchHarness } from '../support/openstack-simulator/launch-harness';
import { FaultProxy } from '../support/openstack-simulator/fault-proxy';
import { openstackProviderConfig, simProviderYaml, writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { generateTestCerts, type TestCerts } from '../support/tls-certs';

jest.setTimeout(30000);

const h = new OpenstackLaunchHarness();
let certs: TestCerts;
beforeAll(async () => {
  await h.open();
  certs = generateTestCerts();
});
afterAll(async () => {
  certs?.cleanup();
  await h.close();
});
beforeEach(async () => h.reset());
afterEach(async () => h.teardown());

/** A provider on `yamlText` and a clouds.yaml written by the fixture (not started). */
function provider(yamlText: string, cloudsFile: string, env: NodeJS.ProcessEnv = {}): OpenstackProvider {
  const config = openstackProviderConfig(yamlText, { runtime: true });
  const whole = { providers: new Map([[config.name, config]]), diskimages: new Map() } as unknown as NodepoolConfig;
  return new OpenstackProvider(config, { zk: h.zk, logger: h.logger, tracer: trace.getTracer('test'), metrics: h.metrics, config: whole }, {
    env: { OS_CLIENT_CONFIG_FILE: cloudsFile, HOME: '/nonexistent', ...env },
    transport: { timeoutMs: 2000, attempts: 1 },
    startWaitMs: 3000,
  });
}

describe('clouds.yaml TLS through a TLS-terminating proxy', () => {
  let tlsProxy: FaultProxy;
  afterEach(async () => tlsProxy?.stop());

  async function front(clientCa?: string): Promise<string> {
    const pem = (f: string): string => fs.readFileSync(f, 'utf8');
    tlsProxy = await FaultProxy.start(h.sim.url, { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: clientCa ? pem(clientCa) : undefined });
    h.sim.advertisedBase = tlsProxy.url;
    return tlsProxy.url;
  }

  test('cacert verifies the endpoint; without it (or with another CA) the cloud is refused; verify: false skips the check', async () => {
    const base = await front();
    const zones = async (cloudExtra: Record<string, unknown>): Promise<string[]> => {
      const p = provider(simProviderYaml(), writeCloudsYaml(h.sim, { base, cloudExtra }));
      await p.start();
      return p.resources.client.availabilityZones();
    };
    expect(await zones({ cacert: certs.ca })).toEqual(['nova']);
    await expect(zones({})).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    await expect(zones({ cacert: certs.otherCa })).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/);
    expect(await zones({ verify: false })).toEqual(['nova']);
  });

  test('cert/key: a client certificate is presented to an endpoint that requires one', async () => {
    const base = await front(certs.ca);
    const zones = async (cloudExtra: Record<string, unknown>): Promise<string[]> => {
      const p = provider(simProviderYaml(), writeCloudsYaml(h.sim, { base, cloudExtra }));
      await p.start();
      return p.resources.client.availabilityZones();
    };
    expect(await zones({ cacert: certs.ca, cert: certs.clientCert, key: certs.clientKey })).toEqual(['nova']);
    await expect(zones({ cacert: certs.ca })).rejects.toThrow();
  });
});

describe('clouds.yaml regions and networks, provider without cloud, config-drive', () => {
  test('regions: provider region-name picks one; a region the cloud does not list is a clear error', async () => {
    const regions = { regions: ['RegionOne', { name: 'RegionTwo', values: { interface: 'internal' } }] };
    const file = writeCloudsYaml(h.sim, { base: h.proxy.url, cloudExtra: regions });
    const ok = provider(simProviderYaml(), file);
    await ok.start();
    expect(await ok.getAvailabilityZones()).toEqual(['nova']);
    const bad = provider(simProviderYaml().replace('region-name: RegionOne', 'region-name: RegionThree'), file);
    await expect(bad.start()).rejects.toThrow(`${file}: region RegionThree is not a valid region name for cloud sim; valid choices are RegionOne, RegionTwo`);
  });

  test('networks: a routes_externally default_interface network is booted on when the label names none, and needs no floating IP', async () => {
    const yaml = simProviderYaml({ poolExtra: 'host-key-checking: false' }).replace('    networks: [private]\n', '');
    const file = writeCloudsYaml(h.sim, { base: h.proxy.url, cloudExtra: { networks: [{ name: 'private', routes_externally: true, default_interface: true }] } });
    const p = provider(yaml, file);
    await p.start();
    const node = await h.buildingNode(p);
    expect((await h.launch(p, node)).state).toBe('ready');
    const [srv] = h.sim.state.liveServers();
    expect(srv.networkIds).toEqual([h.sim.state.network('private').id]);
    expect(h.sim.state.floatingIps.size).toBe(0);
    const body = await h.rawBody(node.id as string);
    expect(body).toMatchObject({ public_ipv4: expect.stringMatching(/^10\.0\.0\./), interface_ip: body.public_ipv4 });
    await h.remove(p, node);
  });

  test('a provider without cloud: uses the only cloud of clouds.yaml (or OS_CLOUD)', async () => {
    const yaml = simProviderYaml().replace('cloud: sim\n', '');
    // config-validate insists on `cloud` as Nodepool's validator does; the launcher runs without it.
    expect(() => openstackProviderConfig(yaml)).toThrow('providers[0].cloud: required key not provided');
    expect(openstackProviderConfig(yaml, { runtime: true }).raw.cloud).toBeUndefined();
    const p = provider(yaml, writeCloudsYaml(h.sim, { base: h.proxy.url }));
    await p.start();
    expect(await p.getAvailabilityZones()).toEqual(['nova']);
    const named = provider(yaml, writeCloudsYaml(h.sim, { base: h.proxy.url, appCredential: { id: 'x', secret: 'y' } }), { OS_CLOUD: 'sim' });
    await named.start();
    expect(await named.getAvailabilityZones()).toEqual(['nova']);
  });

  test('config-drive of a provider diskimage and of a cloud image is sent; unset leaves it to the cloud', async () => {
    const yaml = `${simProviderYaml({ poolExtra: 'host-key-checking: false' })}
diskimages:
  - name: dib
    config-drive: false
`.replace('cloud-images:\n', 'cloud-images:\n  - {name: drive, image-name: ubuntu-noble, config-drive: true}\n')
      .replace('      - name: big\n', '      - {name: dib, diskimage: dib, min-ram: 1024}\n      - {name: withdrive, cloud-image: drive, min-ram: 1024}\n      - name: big\n');
    const p = provider(yaml, writeCloudsYaml(h.sim, { base: h.proxy.url }));
    await p.start();
    const imageId = h.sim.state.images.find((i) => i.name === 'ubuntu-noble')?.id ?? '';
    const sent = async (label: string, imageExternalId: string | null): Promise<Record<string, unknown>> => {
      const before = new Set(h.sim.state.liveServers().map((s) => s.id));
      const sm = p.getCreateStateMachine({ hostname: `np-${label}`, label, pool: 'main', imageExternalId, metadata: {}, nodeId: label, requestId: null, az: null }, h.logger);
      await sm.advance();
      const srv = h.sim.state.liveServers().find((s) => !before.has(s.id));
      return srv?.request ?? {};
    };
    expect((await sent('dib', imageId)).config_drive).toBe(false);
    expect((await sent('withdrive', null)).config_drive).toBe(true);
    expect('config_drive' in (await sent('small', null))).toBe(false);
  });
});

describe('nodepool alien-image-list', () => {
  let tmp: string;
  let client: ZkClient;
  const savedClouds = process.env.OS_CLIENT_CONFIG_FILE;
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alien-'));
    // The unchrooted tree of the test ZooKeeper (the launch tests use chroots).
    client = new ZkClient({ hosts: h.server.connectString, sessionTimeout: 4000 });
    await client.connect(10000);
  });
  afterEach(async () => {
    await client.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    if (savedClouds === undefined) delete process.env.OS_CLIENT_CONFIG_FILE;
    else process.env.OS_CLIENT_CONFIG_FILE = savedClouds;
  });

  test('lists builder-tagged images in the cloud that no ready upload in ZooKeeper names, with Nodepool\'s columns', async () => {
    const image = (name: string, tagged: boolean): { id: string; name: string; status: string } => {
      const img = { id: randomUUID(), name, status: 'active', ...(tagged ? { nodepool_build_id: 'b1' } : {}) };
      h.sim.state.images.push(img);
      return img;
    };
    const known = image('dib-1700000000', true);
    const alien = image('dib-1600000000', true);
    const uploading = image('dib-1800000000', true);
    image('vendor-image', false);
    const upload = async (build: string, body: Record<string, unknown>): Promise<void> => {
      const dir = `/nodepool/images/dib/builds/${build}`;
      await client.ensurePath(`${dir}/providers/sim/images`);
      await client.set(dir, Buffer.from(JSON.stringify({ state: 'ready', state_time: 1, builder: 'b', formats: 'qcow2' })));
      await client.create(`${dir}/providers/sim/images/0000000001`, Buffer.from(JSON.stringify(body)));
    };
    await upload('0000000001', { state: 'ready', state_time: 2, external_id: known.id });
    await upload('0000000002', { state: 'uploading', state_time: 3, external_id: uploading.id });

    const config = path.join(tmp, 'nodepool.yaml');
    fs.writeFileSync(config, `zookeeper-servers:
  - host: ${h.server.host}
    port: ${h.server.port}
labels:
  - name: small
diskimages:
  - name: dib
providers:
  - name: sim
    driver: openstack
    cloud: sim
    rate: 0
    diskimages:
      - name: dib
    pools:
      - name: main
        labels:
          - {name: small, diskimage: dib, min-ram: 512}
`);
    // The driver reads clouds.yaml from the process environment, as the launcher's does.
    process.env.OS_CLIENT_CONFIG_FILE = writeCloudsYaml(h.sim, { base: h.proxy.url });
    const r = { out: '', err: '' };
    const io: CliIo = { env: process.env, stdout: (t) => void (r.out += t), stderr: (t) => void (r.err += t) };
    expect({ code: await nodepoolMain(['-c', config, 'alien-image-list'], io), err: r.err }).toEqual({ code: 0, err: '' });
    const lines = r.out.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^\| Provider \| Name +\| Image ID +\|$/);
    const rows = lines.slice(3, -1).map((l) => l.slice(2, -2).split(' | ').map((c) => c.trim()));
    // An upload still `uploading` is not ready: Nodepool counts only ready ones.
    expect(rows.sort()).toEqual([['sim', alien.name, alien.id], ['sim', uploading.name, uploading.id]].sort());

    r.out = '';
    expect(await nodepoolMain(['-c', config, 'alien-image-list', 'other'], io)).toBe(0);
    expect(r.out.trimEnd().split('\n')).toHaveLength(4); // the header alone
  });
});
