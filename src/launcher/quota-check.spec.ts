import { declineReason } from './decline-reasons';
import { hasProviderQuota, hasRemainingQuota, poolLimits, tenantQuotaAllows, usedQuota } from './quota-check';
import type { PoolConfig, ProviderConfig } from '../plugins/nodepool-config';
import { QuotaInformation } from '../plugins/quota';
import { FakeProvider } from '../plugins/testing/fake-provider';
import { Node } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';

function pool(over: Partial<PoolConfig> = {}, raw: Record<string, unknown> = {}): PoolConfig {
  return { name: 'main', maxServers: Infinity, priority: 100, nodeAttributes: null, labels: ['small', 'big'], raw, ...over };
}

function provider(p: PoolConfig): FakeProvider {
  const raw = { pools: [{ name: 'main', labels: [{ name: 'small', resources: { cores: 2, ram: 1024 } }, { name: 'big', resources: { cores: 8 } }] }] };
  const config: ProviderConfig = { name: 'fake', driver: 'fake', maxConcurrency: -1, priority: null, pools: [p], raw, location: 'test' };
  return new FakeProvider(config);
}

function node(fields: Partial<Node>): Node {
  return Object.assign(new Node(String(Math.random()).slice(2, 12)), { provider: 'fake', pool: 'main', type: ['small'], state: 'ready' }, fields);
}

describe('quota checks', () => {
  it('pool limits come from max-servers, max-cores, max-ram and max-resources; unset is unlimited', () => {
    const limits = poolLimits(pool({ maxServers: 3 }, { 'max-cores': 10, 'max-resources': { gpus: 2 } }));
    expect(limits.values).toEqual({ instances: 3, cores: 10, gpus: 2 });
    expect(limits.get('ram')).toBe(Infinity);
  });

  it('a provider\'s poolQuotaLimits hook sets the pool caps in place of the default keys', () => {
    const p = pool({}, { 'max-gpus': 2 });
    const fake = provider(p);
    const withHook = Object.assign(Object.create(fake) as FakeProvider, {
      poolQuotaLimits: (q: PoolConfig) => new QuotaInformation({ cores: q.raw['max-gpus'] as number }, Infinity),
    });
    expect(poolLimits(p, withHook).values).toEqual({ cores: 2 });
    // One small node costs 2 cores: the first fits, a second does not.
    const input = { pool: p, label: 'small', cloudAvailable: QuotaInformation.unlimited() };
    expect(hasRemainingQuota({ ...input, provider: withHook, nodes: [] })).toBe(true);
    expect(hasRemainingQuota({ ...input, provider: withHook, nodes: [node({})] })).toBe(false);
    expect(hasRemainingQuota({ ...input, provider: fake, nodes: [node({})] })).toBe(true);
    expect(hasProviderQuota(withHook, p, ['big'], QuotaInformation.unlimited())).toBe(false);
  });

  it('used quota takes recorded resources, else the label cost; other providers and unknown labels do not count', () => {
    const p = pool();
    const prov = provider(p);
    const used = usedQuota([
      node({ resources: { instances: 1, cores: 4 } }),
      node({ resources: null }),
      node({ provider: 'other', resources: { instances: 1, cores: 99 } }),
      node({ resources: null, type: ['unknown'] }),
    ], prov);
    expect(used.values).toEqual({ instances: 2, cores: 6, ram: 1024 });
  });

  it('remaining quota: the pool cap and the cloud limits less unmanaged use both bind', () => {
    const p = pool({ maxServers: 2 }, { 'max-cores': 4 });
    const prov = provider(p);
    const unlimited = QuotaInformation.unlimited();
    expect(hasRemainingQuota({ provider: prov, pool: p, label: 'small', nodes: [], cloudAvailable: unlimited })).toBe(true);
    const one = [node({ resources: { instances: 1, cores: 2 } })];
    expect(hasRemainingQuota({ provider: prov, pool: p, label: 'small', nodes: one, cloudAvailable: unlimited })).toBe(true);
    const two = [...one, node({ resources: { instances: 1, cores: 2 } })];
    expect(hasRemainingQuota({ provider: prov, pool: p, label: 'small', nodes: two, cloudAvailable: unlimited })).toBe(false);
    const cloud = new QuotaInformation({ cores: 3 }, Infinity);
    expect(hasRemainingQuota({ provider: prov, pool: p, label: 'small', nodes: one, cloudAvailable: cloud })).toBe(false);
    const ignoring = pool({ maxServers: 2 }, { 'ignore-provider-quota': true });
    expect(hasRemainingQuota({ provider: prov, pool: ignoring, label: 'small', nodes: one, cloudAvailable: cloud })).toBe(true);
  });

  it('provider quota: a request that could never fit is told apart from one that must wait', () => {
    const p = pool({ maxServers: 2 }, { 'max-cores': 6 });
    const prov = provider(p);
    expect(hasProviderQuota(prov, p, ['small', 'small'], QuotaInformation.unlimited())).toBe(true);
    expect(hasProviderQuota(prov, p, ['big'], QuotaInformation.unlimited())).toBe(false);
    expect(hasProviderQuota(prov, p, ['small', 'small', 'small'], QuotaInformation.unlimited())).toBe(false);
    expect(hasProviderQuota(prov, p, ['small'], new QuotaInformation({ ram: 512 }, Infinity))).toBe(false);
  });

  it('tenant limits sum every node of the tenant, any provider', () => {
    const limits = { tenantName: 't1', limits: { instances: 2 } };
    const nodes = [node({ tenant_name: 't1', resources: { instances: 1 } }), node({ provider: 'x', tenant_name: 't1', resources: { instances: 1 } })];
    expect(tenantQuotaAllows(limits, nodes.slice(0, 1), new QuotaInformation({ instances: 1 }))).toBe(true);
    expect(tenantQuotaAllows(limits, nodes, new QuotaInformation({ instances: 1 }))).toBe(false);
    expect(tenantQuotaAllows(undefined, nodes, new QuotaInformation({ instances: 1 }))).toBe(true);
  });

  it('decline reasons: disabled pool, foreign label, never fits; none for a request that only has to wait', () => {
    const req = (labels: string[]): NodeRequest => Object.assign(new NodeRequest('100-0000000001'), { node_types: labels });
    const p = pool({ maxServers: 1 });
    const prov = provider(p);
    const limits = QuotaInformation.unlimited();
    expect(declineReason(req(['small']), prov, pool({ maxServers: 0 }), limits)).toMatch(/max-servers/);
    expect(declineReason(req(['tiny']), prov, p, limits)).toMatch(/not in this pool/);
    expect(declineReason(req(['small', 'small']), prov, p, limits)).toMatch(/never fit/);
    expect(declineReason(req(['small']), prov, p, limits)).toBeUndefined();
  });
});
