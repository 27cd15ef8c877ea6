/**
 * The OpenStack client over real HTTP against the API simulator (and the fault proxy): Keystone
 * auth and token reuse/refresh, catalog selection, retries with backoff, timeouts, the `rate`
 * throttle, quota errors and pagination.
 */
import { QuotaError } from '../../src/plugins/state-machine';
import { loadCloudCredentials } from '../../plugins/openstack/src/clouds-yaml';
import { OpenStackApiError, OpenStackConnectionError } from '../../plugins/openstack/src/http-transport';
import { KeystoneSession, type KeystoneSessionOptions } from '../../plugins/openstack/src/keystone-session';
import { OpenStackClient } from '../../plugins/openstack/src/openstack-client';
import { FaultProxy } from '../support/openstack-simulator/fault-proxy';
import { writeCloudsYaml } from '../support/openstack-simulator/openstack-fixture';
import { OpenStackSimulator } from '../support/openstack-simulator/openstack-simulator';

jest.setTimeout(20000);

const appCredential = { id: 'appcred-1', secret: 'appcred-Secret-xyz' };
let sim: OpenStackSimulator;
let proxy: FaultProxy;

beforeEach(async () => {
  sim = await new OpenStackSimulator({ appCredential, pageSize: 2, buildMs: 50, linkHost: 'http://nova-internal.invalid:8774' }).start();
  proxy = await FaultProxy.start(sim.url);
  sim.advertisedBase = proxy.url;
});

afterEach(async () => {
  await proxy.stop();
  await sim.stop();
});

const FAST: KeystoneSessionOptions = { timeoutMs: 2000, attempts: 4, backoffMs: 20, maxBackoffMs: 100 };

function client(options: KeystoneSessionOptions = {}, cloud = 'sim', region: string | null = null): OpenStackClient {
  const file = writeCloudsYaml(sim, { base: proxy.url, appCredential });
  const creds = loadCloudCredentials(cloud, region, { OS_CLIENT_CONFIG_FILE: file, HOME: '/nonexistent' });
  return new OpenStackClient(new KeystoneSession(creds, { ...FAST, ...options }));
}

describe('Keystone session', () => {
  test('password auth: one token reused for many calls, scoped to the project', async () => {
    const c = client();
    await c.listFlavors();
    await c.listServers();
    await c.computeLimits();
    expect(c.session.authCount).toBe(1);
    expect(sim.seen('identity', 'POST')).toHaveLength(1);
    expect(c.session.projectId).toBe(sim.projectId);
    // This cloud has no block storage: volumes are ignored, not an error.
    expect(await c.volumeLimits()).toBeNull();
    expect(await c.listVolumes()).toEqual([]);
    expect(new Set(sim.seen('compute').map((r) => r.token)).size).toBe(1);
  });

  test('application credential auth works', async () => {
    const c = client({}, 'sim-appcred');
    expect((await c.listFlavors()).map((f) => f.name)).toContain('m1.small');
  });

  test('refreshes the token before it expires, without a 401', async () => {
    await sim.stop();
    sim = await new OpenStackSimulator({ tokenTtl: 2 }).start();
    await proxy.stop();
    proxy = await FaultProxy.start(sim.url);
    sim.advertisedBase = proxy.url;
    const c = client();
    await c.listFlavors();
    // Lifetime 2 s, refreshed in its last quarter: at 1.6 s a new token is due.
    await new Promise((r) => setTimeout(r, 1600));
    await c.listFlavors();
    expect(c.session.authCount).toBe(2);
    expect(sim.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  test('re-authenticates once on 401 (revoked token) and succeeds', async () => {
    const c = client();
    await c.listServers();
    sim.revokeTokens();
    await expect(c.listServers()).resolves.toEqual([]);
    expect(c.session.authCount).toBe(2);
    expect(sim.requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  test('wrong password: the error does not carry the password', async () => {
    const file = writeCloudsYaml(sim);
    const creds = loadCloudCredentials('sim', null, { OS_CLIENT_CONFIG_FILE: file });
    creds.auth.password = 'wrong-Pa55-word';
    const c = new OpenStackClient(new KeystoneSession(creds, FAST));
    const err = await c.listServers().catch((e: Error) => e);
    expect(err).toBeInstanceOf(OpenStackApiError);
    expect((err as OpenStackApiError).status).toBe(401);
    expect(String((err as Error).message)).not.toContain('wrong-Pa55-word');
  });

  test('picks endpoints by region; an unknown region fails with a clear message', async () => {
    await expect(client({}, 'sim', 'RegionOne').listServers()).resolves.toEqual([]);
    // As openstacksdk: a region the cloud entry does not list is refused before any call ...
    expect(() => client({}, 'sim', 'Nowhere')).toThrow('region Nowhere is not a valid region name for cloud sim; valid choices are RegionOne');
    // ... and one the entry leaves open must be in the catalog.
    const open = writeCloudsYaml(sim, { base: proxy.url, cloudExtra: { region_name: null } });
    const creds = loadCloudCredentials('sim', 'Nowhere', { OS_CLIENT_CONFIG_FILE: open, HOME: '/nonexistent' });
    await expect(new OpenStackClient(new KeystoneSession(creds, FAST)).listServers()).rejects.toThrow('no public compute endpoint in region Nowhere');
  });
});

describe('transport', () => {
  test('a burst of 5xx on a GET is retried with backoff and succeeds', async () => {
    proxy.inject({ kind: '5xx', count: 3, match: /GET .*\/servers\/detail/ });
    const c = client();
    await expect(c.listServers()).resolves.toEqual([]);
    expect(proxy.applied['5xx']).toBe(3);
  });

  test('5xx beyond the attempts gives up with the status', async () => {
    proxy.inject({ kind: '5xx', count: 10, status: 502, match: /flavors/ });
    const err = await client({ attempts: 3 }).listFlavors().catch((e: Error) => e);
    expect(err).toBeInstanceOf(OpenStackApiError);
    expect((err as OpenStackApiError).status).toBe(502);
    expect(proxy.applied['5xx']).toBe(3);
  });

  test('dropped connections are retried for GET', async () => {
    proxy.inject({ kind: 'drop', count: 2, match: /limits/ });
    await expect(client().computeLimits()).resolves.toMatchObject({ maxTotalInstances: 10 });
    expect(proxy.applied.drop).toBe(2);
  });

  test('a POST is not retried after a 5xx (it may have half-happened)', async () => {
    const c = client();
    const images = await c.listImages();
    proxy.inject({ kind: '5xx', count: 1, match: /POST .*\/servers$/ });
    await expect(c.createServer({ name: 'np1', imageRef: images[0].id, flavorRef: '1', metadata: {} })).rejects.toBeInstanceOf(OpenStackApiError);
    expect(sim.seen('compute', 'POST')).toHaveLength(0);
  });

  test('429 Too Many Requests is retried, even for a create (nothing happened)', async () => {
    const c = client();
    const images = await c.listImages();
    proxy.inject({ kind: '5xx', status: 429, count: 2, match: /POST .*\/servers$/ });
    await expect(c.createServer({ name: 'np1', imageRef: images[0].id, flavorRef: '1', metadata: {} })).resolves.toMatch(/-/);
    expect(proxy.applied['5xx']).toBe(2);
    expect(sim.seen('compute', 'POST')).toHaveLength(1);
  });

  test('Retry-After is honoured (up to the backoff cap)', async () => {
    const c = client({ backoffMs: 10, maxBackoffMs: 2000 });
    await c.listFlavors();
    proxy.inject({ kind: '5xx', status: 503, count: 1, retryAfter: 1, match: /limits/ });
    const started = performance.now();
    await c.computeLimits();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test('every call has a timeout', async () => {
    proxy.inject({ kind: 'slow', count: 5, delayMs: 3000, match: /limits/ });
    const started = performance.now();
    const err = await client({ timeoutMs: 300, attempts: 2 }).computeLimits().catch((e: Error) => e);
    expect(err).toBeInstanceOf(OpenStackConnectionError);
    expect((err as Error).message).toContain('timed out after 300 ms');
    // Two 300 ms attempts; one answer without the timeout would take 3000 ms.
    expect(performance.now() - started).toBeLessThan(2500);
  });

  test('rate: calls to a service are spaced at least `rate` seconds apart', async () => {
    const c = client({ rate: 0.2 });
    await c.listFlavors();
    const from = sim.seen('compute').length;
    await Promise.all([c.computeLimits(), c.availabilityZones(), c.listFlavors(), c.computeLimits()]);
    const at = sim.seen('compute').slice(from).map((r) => r.at);
    expect(at).toHaveLength(4);
    // Measured on arrival, so a loaded machine adds some jitter to single gaps, not to the span.
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(120);
    expect(at[at.length - 1] - at[0]).toBeGreaterThanOrEqual(3 * 200 - 30);
  });

  test('over quota: 403 "Quota exceeded" is a QuotaError', async () => {
    sim.state.quota.instances = 0;
    const c = client();
    const images = await c.listImages();
    await expect(c.createServer({ name: 'np1', imageRef: images[0].id, flavorRef: '1', metadata: {} })).rejects.toBeInstanceOf(QuotaError);
  });
});

describe('pagination', () => {
  test('follows Nova servers_links (on the endpoint host, not the internal one in the link) and Glance next', async () => {
    const c = client();
    const images = await c.listImages();
    expect(images.map((i) => i.name)).toEqual(['ubuntu-noble', 'debian-bookworm', 'queued-image']);
    for (let i = 0; i < 5; i++) await c.createServer({ name: `np${i}`, imageRef: images[0].id, flavorRef: '1', metadata: {} });
    const servers = await c.listServers();
    expect(servers.map((s) => s.name).sort()).toEqual(['np0', 'np1', 'np2', 'np3', 'np4']);
    expect(sim.seen('compute', 'GET').filter((r) => r.path.includes('/servers/detail')).length).toBe(3);
  });
});
