/**
 * The engine's metrics, in two forms: Prometheus series in the kernel's registry (served on
 * `/metrics`) and, when a statsd host is configured, Nodepool's statsd names (spec §5.1) so
 * existing Graphite dashboards keep working. Launch outcomes are reported by the request
 * handlers as they happen; node, request, quota and ZooKeeper gauges are re-counted from the
 * ZooKeeper cache by the {@link StatsWorker} (every 5 s like Nodepool's, and soon after a change).
 */
import type { StatsdClient } from '../kernel/services/statsd-client';
import { statsdKeyPart } from '../kernel/services/statsd-client';
import type { Counter, Gauge, Histogram, Metrics } from '../plugins/metrics';
import type { NodepoolConfig } from '../plugins/nodepool-config';
import type { ZkConnectionState } from '../plugins/zookeeper';
import { NODE_STATES, type Node } from '../zk/models/node';
import { REQUEST_STATES, type NodeRequest } from '../zk/models/node-request';

/** One launch that ended (successfully or not). */
export interface LaunchEnded {
  provider: string;
  pool: string;
  label: string;
  az: string | null;
  requestor: string | null;
  /** Nodepool's outcome key: `ready`, `error.quota`, `error.unknown`, ... */
  result: string;
  /** Attempts counted against `launch-retries`. */
  attempts: number;
  durationMs: number;
}

/** What the gauges are counted from. */
export interface StatsSnapshot {
  nodes: readonly Node[];
  requests: readonly NodeRequest[];
  config: NodepoolConfig;
  zkState: ZkConnectionState;
  /** Whether this launcher won the stats election (only the winner sends statsd node gauges). */
  statsLeader: boolean;
}

const ZK_STATES: readonly ZkConnectionState[] = ['idle', 'connecting', 'connected', 'suspended', 'lost', 'closed'];

/** See the module comment. One per engine. */
export class EngineStats {
  private readonly launches: Counter;
  private readonly attempts: Counter;
  private readonly failures: Counter;
  private readonly durations: Histogram;
  private readonly nodes: Gauge;
  private readonly requests: Gauge;
  private readonly quotaUsed: Gauge;
  private readonly maxServers: Gauge;
  private readonly zkConnected: Gauge;
  private readonly zkState: Gauge;

  constructor(metrics: Metrics, readonly statsd: StatsdClient | null = null) {
    this.launches = metrics.counter('nodepool_launch_total', 'Node launches that ended, by result (ready, error.*)', ['provider', 'pool', 'label', 'result']);
    this.attempts = metrics.counter('nodepool_launch_attempts_total', 'Launch attempts counted against launch-retries', ['provider', 'pool', 'label']);
    this.failures = metrics.counter('nodepool_launch_failures_total', 'Node launches that did not end ready', ['provider', 'pool', 'label', 'result']);
    this.durations = metrics.histogram('nodepool_launch_duration_seconds', 'Duration of node launches, from building to the outcome', ['provider', 'pool', 'label', 'result']);
    this.nodes = metrics.gauge('nodepool_nodes', 'Nodes in ZooKeeper by state, provider and label', ['state', 'provider', 'label']);
    this.requests = metrics.gauge('nodepool_requests', 'Node requests in ZooKeeper by state', ['state']);
    this.quotaUsed = metrics.gauge('nodepool_pool_quota_used', 'Resources held by the nodes of a pool (instances, cores, ram, ...)', ['provider', 'pool', 'resource']);
    this.maxServers = metrics.gauge('nodepool_pool_max_servers', 'Pool max-servers (absent when unlimited)', ['provider', 'pool']);
    this.zkConnected = metrics.gauge('nodepool_zookeeper_connected', '1 while the ZooKeeper session is connected');
    this.zkState = metrics.gauge('nodepool_zookeeper_session_state', '1 for the current ZooKeeper connection state', ['state']);
  }

  /** Counts a launch outcome; statsd gets Nodepool's timer and counter names (STA:57-88). */
  launchEnded(e: LaunchEnded): void {
    const labels = { provider: e.provider, pool: e.pool, label: e.label };
    this.launches.inc({ ...labels, result: e.result });
    if (e.attempts > 0) this.attempts.inc(labels, e.attempts);
    if (e.result !== 'ready') this.failures.inc({ ...labels, result: e.result });
    this.durations.observe({ ...labels, result: e.result }, e.durationMs / 1000);
    const statsd = this.statsd;
    if (!statsd) return;
    const keys = [`nodepool.launch.provider.${e.provider}.${e.result}`, `nodepool.launch.${e.result}`];
    if (e.az) keys.unshift(`nodepool.launch.provider.${e.provider}.${e.az}.${e.result}`);
    if (e.requestor) keys.push(`nodepool.launch.requestor.${statsdKeyPart(e.requestor)}.${e.result}`);
    for (const key of keys) {
      statsd.timing(key, e.durationMs);
      statsd.incr(key);
    }
  }

  /** Re-counts every gauge from a snapshot of the cache (STA:90-182). */
  update(s: StatsSnapshot): void {
    const providers = [...s.config.providers.keys()];
    const labels = [...s.config.labels.keys()];
    // Zero-filled like Nodepool, so a state that empties reads 0 rather than its last value.
    const total = new Map<string, number>(NODE_STATES.map((st) => [st, 0]));
    const byProvider = new Map<string, number>();
    const byLabel = new Map<string, number>();
    const series = new Map<string, { state: string; provider: string; label: string; n: number }>();
    for (const p of providers) for (const st of NODE_STATES) byProvider.set(`${p}\0${st}`, 0);
    for (const l of labels) for (const st of NODE_STATES) byLabel.set(`${l}\0${st}`, 0);
    const used = new Map<string, Record<string, number>>();
    for (const node of s.nodes) {
      const state = node.state;
      total.set(state, (total.get(state) ?? 0) + 1);
      const provider = node.provider ?? '';
      if (byProvider.has(`${provider}\0${state}`)) byProvider.set(`${provider}\0${state}`, (byProvider.get(`${provider}\0${state}`) ?? 0) + 1);
      for (const label of node.type) {
        if (byLabel.has(`${label}\0${state}`)) byLabel.set(`${label}\0${state}`, (byLabel.get(`${label}\0${state}`) ?? 0) + 1);
      }
      const key = `${state}\0${provider}\0${node.type[0] ?? ''}`;
      const entry = series.get(key) ?? { state, provider, label: node.type[0] ?? '', n: 0 };
      entry.n++;
      series.set(key, entry);
      // Every node of a pool holds its resources until it is gone (what quota checks count).
      if (node.provider && node.pool && node.resources) {
        const poolKey = `${node.provider}\0${node.pool}`;
        const sum = used.get(poolKey) ?? {};
        for (const [resource, value] of Object.entries(node.resources)) {
          if (typeof value === 'number') sum[resource] = (sum[resource] ?? 0) + value;
        }
        used.set(poolKey, sum);
      }
    }

    this.nodes.reset();
    for (const p of providers) for (const l of s.config.providers.get(p)?.pools.flatMap((pool) => pool.labels) ?? []) {
      for (const st of NODE_STATES) this.nodes.set({ state: st, provider: p, label: l }, 0);
    }
    for (const e of series.values()) this.nodes.set({ state: e.state, provider: e.provider, label: e.label }, e.n);
    this.requests.reset();
    const requestCounts = new Map<string, number>(REQUEST_STATES.map((st) => [st, 0]));
    for (const r of s.requests) requestCounts.set(r.state, (requestCounts.get(r.state) ?? 0) + 1);
    for (const [state, n] of requestCounts) this.requests.set({ state }, n);
    this.quotaUsed.reset();
    this.maxServers.reset();
    for (const provider of s.config.providers.values()) {
      for (const pool of provider.pools) {
        const sum = used.get(`${provider.name}\0${pool.name}`) ?? {};
        for (const resource of new Set(['instances', ...Object.keys(sum)])) {
          this.quotaUsed.set({ provider: provider.name, pool: pool.name, resource }, sum[resource] ?? 0);
        }
        if (Number.isFinite(pool.maxServers)) this.maxServers.set({ provider: provider.name, pool: pool.name }, pool.maxServers);
      }
    }
    this.zkConnected.set({}, s.zkState === 'connected' ? 1 : 0);
    for (const st of ZK_STATES) this.zkState.set({ state: st }, st === s.zkState ? 1 : 0);

    const statsd = this.statsd;
    if (!statsd) return;
    // Per pool loop in Nodepool, from every launcher (STA:153-165).
    for (const provider of s.config.providers.values()) {
      const max = provider.pools.reduce((sum, pool) => sum + pool.maxServers, 0);
      if (Number.isFinite(max)) statsd.gauge(`nodepool.provider.${provider.name}.max_servers`, max);
    }
    if (!s.statsLeader) return;
    for (const [state, n] of total) statsd.gauge(`nodepool.nodes.${state}`, n);
    for (const [key, n] of byProvider) {
      const [provider, state] = key.split('\0');
      statsd.gauge(`nodepool.provider.${provider}.nodes.${state}`, n);
    }
    for (const [key, n] of byLabel) {
      const [label, state] = key.split('\0');
      statsd.gauge(`nodepool.label.${label}.nodes.${state}`, n);
    }
  }
}
