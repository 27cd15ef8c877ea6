import type { ProviderConfig } from '../plugins/nodepool-config';
import type { ComponentRecord, PoolComponentRecord } from '../zk/models/component';
import { Node } from '../zk/models/node';
import { launcherRows, providerRows, type NamedComponent } from './fleet-rows';

const launcher = (hostname: string, extra: Record<string, unknown> = {}): NamedComponent => ({
  name: `${hostname}0000000001`,
  value: { hostname, kind: 'launcher', state: 'running', version: 'v', model_api: 0, ...extra } as ComponentRecord,
});

const pool = (hostname: string, provider: string, name: string, extra: Partial<PoolComponentRecord> = {}): NamedComponent<PoolComponentRecord> => ({
  name: `${hostname}0000000002`,
  value: {
    hostname, kind: 'pool', state: 'running', version: 'v', model_api: 0, id: `${hostname}-${provider}-${name}`, name,
    provider_name: provider, supported_labels: ['small'], priority: 100, paused: false, ...extra,
  },
});

function node(provider: string, poolName: string, state: Node['state'], resources: Record<string, number> | null = null): Node {
  const n = new Node();
  Object.assign(n, { provider, pool: poolName, type: ['small'], resources });
  n.state = state;
  return n;
}

const config = (name: string, pools: { name: string; maxServers: number; raw?: Record<string, unknown>; labels?: string[] }[]): [string, ProviderConfig] => [
  name,
  {
    name, driver: 'fake', maxConcurrency: -1, priority: null, raw: {}, location: 'nodepool.yaml: providers[0]',
    pools: pools.map((p) => ({ name: p.name, maxServers: p.maxServers, priority: 100, nodeAttributes: null, labels: p.labels ?? ['small'], raw: p.raw ?? {} })),
  },
];

describe('providerRows', () => {
  it('merges the pools of several launchers, counts nodes by state and quota against the local caps', () => {
    const rows = providerRows(
      [pool('b', 'cloud', 'main', { paused: true, supported_labels: ['big'], priority: 50 }), pool('a', 'cloud', 'main')],
      [node('cloud', 'main', 'ready', { cores: 2, instances: 1, ram: 1024 }), node('cloud', 'main', 'in-use', { cores: 4, instances: 1 }), node('cloud', 'main', 'ready')],
      [launcher('a', { nodepool_ts_providers: [{ name: 'cloud', driver: 'openstack', state: 'running' }, { name: 7 }] }), launcher('b')],
      new Map([config('cloud', [{ name: 'main', maxServers: 10, raw: { 'max-cores': 16, 'max-resources': { gpus: 2 } } }])]),
    );
    expect(rows).toEqual([{
      provider: 'cloud', pool: 'main', launchers: ['a', 'b'], labels: ['big', 'small'], priority: 50, paused: true, registered: true,
      nodes: 3, node_states: { 'in-use': 1, ready: 2 }, max_servers: 10,
      quota_used: { cores: 6, instances: 3, ram: 1024 }, quota_limits: { cores: 16, gpus: 2, instances: 10 },
      provider_states: { a: 'running' },
    }]);
  });

  it('lists configured pools nobody registered and providers that only nodes name, without caps', () => {
    const rows = providerRows(
      [],
      [node('gone', 'old', 'deleting')],
      [launcher('a', { nodepool_ts_providers: [{ name: 'broken', driver: 'fake', state: 'failed', error: 'bad cloud' }] })],
      new Map([config('broken', [{ name: 'p1', maxServers: Infinity, labels: ['x'] }])]),
    );
    expect(rows.map((r) => [r.provider, r.pool, r.registered, r.labels, r.nodes, r.max_servers, r.quota_limits, r.provider_states])).toEqual([
      ['broken', 'p1', false, ['x'], 0, null, {}, { a: 'failed' }],
      ['gone', 'old', false, [], 1, null, null, {}],
    ]);
  });
});

describe('launcherRows', () => {
  it('lists each launcher with the pools its host registered and the provider states it publishes', () => {
    const rows = launcherRows(
      [launcher('z'), launcher('a', { nodepool_ts_providers: [{ name: 'p', driver: 'static', state: 'failed', error: 'no route', secret: 'x' }] })],
      [pool('a', 'p', 'main'), pool('a', 'p', 'extra'), pool('z', 'q', 'main')],
    );
    expect(rows).toEqual([
      {
        hostname: 'a', state: 'running', version: 'v', pools: ['p/extra', 'p/main'], provider_states: { p: 'failed' },
        providers: [{ name: 'p', driver: 'static', state: 'failed', error: 'no route' }], component: 'a0000000001',
      },
      { hostname: 'z', state: 'running', version: 'v', pools: ['q/main'], provider_states: {}, providers: [], component: 'z0000000001' },
    ]);
  });
});
