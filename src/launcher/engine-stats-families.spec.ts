/**
 * Nodepool's statsd families of a launcher (doc/source/operation.rst, counted as its
 * `stats.py`/`statemachine.py` count them), one test per family, on {@link EngineStats} with a
 * recording statsd client. The wire format is covered by engine-stats.spec.ts and the engine
 * wiring by test/integration/observability.test.ts and statsd-launch-attempts.test.ts.
 */
import { EngineStats, type StatsSnapshot } from './engine-stats';
import { PromMetrics } from '../kernel/services/prom-metrics';
import type { StatsdClient } from '../kernel/services/statsd-client';
import type { NodepoolConfig, PoolConfig, ProviderConfig } from '../plugins/nodepool-config';
import type { PoolComponentRecord } from '../zk/models/component';
import { Node, NODE_STATES } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';

/** What was sent, by kind: `g` gauges (last value), `c` counters (sum), `ms` timers (count). */
function recorder(): { client: StatsdClient; sent: Map<string, number>; keys: (prefix: string) => string[] } {
  const sent = new Map<string, number>();
  const client = {
    gauge: (name: string, value: number) => void sent.set(`${name}|g`, value),
    incr: (name: string, value = 1) => void sent.set(`${name}|c`, (sent.get(`${name}|c`) ?? 0) + value),
    timing: (name: string) => void sent.set(`${name}|ms`, (sent.get(`${name}|ms`) ?? 0) + 1),
  } as unknown as StatsdClient;
  return { client, sent, keys: (prefix) => [...sent.keys()].filter((k) => k.startsWith(prefix)).sort() };
}

const pool = (name: string, maxServers: number, labels: string[]): PoolConfig => ({ name, maxServers, priority: 100, nodeAttributes: null, labels, raw: {} });
const provider = (name: string, pools: PoolConfig[]): ProviderConfig => ({ name, driver: 'fake', maxConcurrency: -1, priority: null, pools, raw: {}, location: name });

function node(state: string, providerName: string, labels: string[]): Node {
  return Object.assign(new Node(), { state, provider: providerName, type: labels });
}

function request(state: string, labels: string[]): NodeRequest {
  return Object.assign(new NodeRequest(), { state, node_types: labels });
}

function registered(providerName: string, name: string, labels: string[]): PoolComponentRecord {
  return { kind: 'pool', id: `${providerName}-${name}`, name, provider_name: providerName, supported_labels: labels, priority: 100, paused: false } as unknown as PoolComponentRecord;
}

function snapshot(over: Partial<StatsSnapshot> = {}): StatsSnapshot {
  const config = {
    providers: new Map([
      ['p1', provider('p1', [pool('main', 5, ['small']), pool('big', 3, ['large']), pool('open', Infinity, ['small'])])],
      ['p2', provider('p2', [pool('main', Infinity, ['small'])])],
    ]),
    tenantLimits: new Map([['tenant.one', { tenantName: 'tenant.one', limits: { cores: 40, instances: Infinity, 'gpu:a100': 2 } }]]),
  } as unknown as NodepoolConfig;
  return {
    nodes: [node('ready', 'p1', ['small']), node('ready', 'p1', ['small', 'large']), node('building', 'p2', ['small']), node('in-use', 'gone', ['odd'])],
    requests: [request('requested', ['small']), request('pending', ['small', 'large']), request('fulfilled', ['large'])],
    config,
    pools: [registered('p1', 'main', ['small']), registered('p1', 'big', ['large', 'small']), registered('p2', 'main', ['small'])],
    zkState: 'connected',
    statsLeader: true,
    ...over,
  };
}

function sendAll(over: Partial<StatsSnapshot> = {}): ReturnType<typeof recorder> {
  const r = recorder();
  new EngineStats(new PromMetrics(), r.client).update(snapshot(over));
  return r;
}

describe("Nodepool's statsd families", () => {
  it('nodepool.nodes.<state>: every state zero-filled, nodes counted by state; only by the stats election winner', () => {
    const { sent, keys } = sendAll();
    expect(keys('nodepool.nodes.')).toHaveLength(NODE_STATES.length);
    expect(sent.get('nodepool.nodes.ready|g')).toBe(2);
    expect(sent.get('nodepool.nodes.building|g')).toBe(1);
    expect(sent.get('nodepool.nodes.in-use|g')).toBe(1);
    expect(sent.get('nodepool.nodes.deleting|g')).toBe(0);
    expect(sendAll({ statsLeader: false }).keys('nodepool.nodes.')).toEqual([]);
  });

  it('nodepool.label.<label>.nodes.<state>: zero-filled for registered pools\' labels; a node counts under each of its labels, unknown ones too', () => {
    const { sent, keys } = sendAll();
    expect(keys('nodepool.label.small.nodes.')).toHaveLength(NODE_STATES.length);
    expect(keys('nodepool.label.large.nodes.')).toHaveLength(NODE_STATES.length);
    expect(sent.get('nodepool.label.small.nodes.ready|g')).toBe(2);
    expect(sent.get('nodepool.label.large.nodes.ready|g')).toBe(1);
    expect(sent.get('nodepool.label.small.nodes.building|g')).toBe(1);
    expect(keys('nodepool.label.odd.')).toEqual(['nodepool.label.odd.nodes.in-use|g']);
  });

  it('nodepool.provider.<provider>.nodes.<state>: zero-filled for registered providers; nodes of others counted', () => {
    const { sent, keys } = sendAll();
    expect(keys('nodepool.provider.p1.nodes.')).toHaveLength(NODE_STATES.length);
    expect(sent.get('nodepool.provider.p1.nodes.ready|g')).toBe(2);
    expect(sent.get('nodepool.provider.p2.nodes.building|g')).toBe(1);
    expect(sent.get('nodepool.provider.p2.nodes.ready|g')).toBe(0);
    expect(keys('nodepool.provider.gone.')).toEqual(['nodepool.provider.gone.nodes.in-use|g']);
  });

  // Nodepool sums `inf` for a pool without max-servers and sends `inf|g`, which statsd servers
  // reject as a bad line; we count such pools as 0.
  it('nodepool.provider.<provider>.max_servers: the sum over its pools, unlimited ones as 0; sent by every launcher', () => {
    const { sent } = sendAll({ statsLeader: false });
    expect(sent.get('nodepool.provider.p1.max_servers|g')).toBe(8);
    expect(sent.get('nodepool.provider.p2.max_servers|g')).toBe(0);
  });

  it('nodepool.tenant_limits.<tenant>.<limit>: names normalized (. and : to _); unset (infinite) limits not sent', () => {
    const { sent, keys } = sendAll({ statsLeader: false });
    expect(keys('nodepool.tenant_limits.')).toEqual(['nodepool.tenant_limits.tenant_one.cores|g', 'nodepool.tenant_limits.tenant_one.gpu_a100|g']);
    expect(sent.get('nodepool.tenant_limits.tenant_one.cores|g')).toBe(40);
  });

  it('nodepool.provider.<provider>.pool.<pool>.addressable_requests: requests of any state whose labels the pool all supports', () => {
    const { sent } = sendAll();
    expect(sent.get('nodepool.provider.p1.pool.main.addressable_requests|g')).toBe(1);
    expect(sent.get('nodepool.provider.p1.pool.big.addressable_requests|g')).toBe(3);
    expect(sent.get('nodepool.provider.p2.pool.main.addressable_requests|g')).toBe(1);
  });

  it('nodepool.provider.<provider>.leaked.<type>s: one count per deleted leak, by plural type', () => {
    const r = recorder();
    const stats = new EngineStats(new PromMetrics(), r.client);
    stats.leakDeleted('p1', 'instance');
    stats.leakDeleted('p1', 'instance');
    stats.leakDeleted('p1', 'port');
    expect(Object.fromEntries(r.keys('nodepool.provider.p1.leaked.').map((k) => [k, r.sent.get(k)]))).toEqual({
      'nodepool.provider.p1.leaked.instances|c': 2, 'nodepool.provider.p1.leaked.ports|c': 1,
    });
  });

  it('nodepool.launch.<result> and .provider.<p>[.<az>].<result>, .requestor.<r>.<result>: counter and timer per attempt outcome', () => {
    const r = recorder();
    const stats = new EngineStats(new PromMetrics(), r.client);
    stats.launchAttemptFailed({ provider: 'p1', pool: 'main', label: 'small', az: null, requestor: null, result: 'error.unknown', attempts: 1, durationMs: 5 });
    stats.launchEnded({ provider: 'p1', pool: 'main', label: 'small', az: 'az1', requestor: 'zuul.sched:1', result: 'ready', attempts: 2, durationMs: 9 });
    expect(r.keys('nodepool.launch.').filter((k) => k.endsWith('|c'))).toEqual([
      'nodepool.launch.error.unknown|c', 'nodepool.launch.provider.p1.az1.ready|c', 'nodepool.launch.provider.p1.error.unknown|c',
      'nodepool.launch.provider.p1.ready|c', 'nodepool.launch.ready|c', 'nodepool.launch.requestor.zuul_sched_1.ready|c',
    ]);
    expect(r.keys('nodepool.launch.').filter((k) => k.endsWith('|ms'))).toHaveLength(6);
  });
});
