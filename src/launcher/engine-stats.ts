/**
 * The engine's metrics, in two forms: Prometheus series in the kernel's registry (served on
 * `/metrics`) and, when a statsd host is configured, Nodepool's statsd names (spec §5.1) so
 * existing Graphite dashboards keep working. Launch outcomes are reported by the request
 * handlers as they happen; node, request, quota and ZooKeeper gauges are re-counted from the
 * ZooKeeper cache by the {@link StatsWorker} (every 5 s like Nodepool's, and soon after a change).
 */
import { statsdKeyPart, type StatsdClient } from '../kernel/services/statsd-client';
import type { Counter, Gauge, Histogram, Metrics } from '../plugins/metrics';
import type { NodepoolConfig } from '../plugins/nodepool-config';
import type { ZkConnectionState } from '../plugins/zookeeper';
import type { PoolComponentRecord } from '../zk/models/component';
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
  /** Registered pool components of every launcher (what Nodepool zero-fills and addresses by). */
  pools: readonly PoolComponentRecord[];
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
  private readonly badRecords: Counter;

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
    this.badRecords = metrics.counter('nodepool_bad_records_total', 'Unusable records found in ZooKeeper, each version once (node, request, component, lock-child)', ['kind']);
  }

  /** Counts an unusable record (once per version) by kind. */
  badRecord(kind: string): void {
    this.badRecords.inc({ kind });
  }

  /** Counts a launch outcome; statsd gets Nodepool's timer and counter names (STA:57-88). */
  launchEnded(e: LaunchEnded): void {
    const labels = { provider: e.provider, pool: e.pool, label: e.label };
    this.launches.inc({ ...labels, result: e.result });
    if (e.attempts > 0) this.attempts.inc(labels, e.attempts);
    if (e.result !== 'ready') this.failures.inc({ ...labels, result: e.result });
    this.durations.observe({ ...labels, result: e.result }, e.durationMs / 1000);
    this.sendLaunch(e);
  }

  /**
   * A failed attempt that is retried: statsd counts it like Nodepool (each attempt records its
   * outcome, SM:345-355), so `nodepool.launch.error.*` counts attempts; the Prometheus series
   * count launches (`nodepool_launch_attempts_total` counts every attempt when the launch ends).
   */
  launchAttemptFailed(e: LaunchEnded): void {
    this.sendLaunch(e);
  }

  /** Nodepool's launch timer and counter names (STA:57-88). */
  private sendLaunch(e: LaunchEnded): void {
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
    const series = new Map<string, { state: string; provider: string; label: string; n: number }>();
    const used = new Map<string, Record<string, number>>();
    for (const node of s.nodes) {
      const state = node.state;
      const provider = node.provider ?? '';
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

    if (this.statsd) this.sendGauges(this.statsd, s);
  }

  /** Nodepool's statsd gauges, as its StatsReporter computes them (STA:90-220). */
  private sendGauges(statsd: StatsdClient, s: StatsSnapshot): void {
    // updateProviderLimits, every launcher: unlimited pools count as nothing.
    for (const provider of s.config.providers.values()) {
      const max = provider.pools.reduce((sum, pool) => sum + (Number.isFinite(pool.maxServers) && pool.maxServers > 0 ? pool.maxServers : 0), 0);
      statsd.gauge(`nodepool.provider.${provider.name}.max_servers`, max);
    }
    // updateTenantLimits.
    for (const tenant of s.config.tenantLimits.values()) {
      for (const [limit, value] of Object.entries(tenant.limits)) {
        // Unset limits are infinite; Python would send `inf`, which no statsd backend reads.
        if (!Number.isFinite(value)) continue;
        statsd.gauge(`nodepool.tenant_limits.${statsdKeyPart(tenant.tenantName)}.${statsdKeyPart(limit)}`, value);
      }
    }
    if (!s.statsLeader) return;
    // updateNodeStats: zero-filled over the registered pools' providers and labels; nodes of
    // other providers or labels are counted too.
    const gauges = new Map<string, number>();
    const providers = new Set(s.pools.map((p) => p.provider_name));
    const labels = new Set(s.pools.flatMap((p) => p.supported_labels));
    for (const state of NODE_STATES) {
      gauges.set(`nodepool.nodes.${state}`, 0);
      for (const provider of providers) gauges.set(`nodepool.provider.${provider}.nodes.${state}`, 0);
      for (const label of labels) gauges.set(`nodepool.label.${label}.nodes.${state}`, 0);
    }
    const add = (key: string): void => {
      gauges.set(key, (gauges.get(key) ?? 0) + 1);
    };
    for (const node of s.nodes) {
      add(`nodepool.nodes.${node.state}`);
      for (const label of node.type) add(`nodepool.label.${label}.nodes.${node.state}`);
      add(`nodepool.provider.${node.provider}.nodes.${node.state}`);
    }
    // updateNodeRequestStats: requests (any state) each registered pool could serve.
    for (const pool of s.pools) {
      if (!pool.name) continue;
      const supported = new Set(pool.supported_labels);
      const n = s.requests.filter((r) => r.node_types.every((l) => supported.has(l))).length;
      gauges.set(`nodepool.provider.${pool.provider_name}.pool.${pool.name}.addressable_requests`, n);
    }
    for (const [key, n] of gauges) statsd.gauge(key, n);
  }

  /** Nodepool's `leaked.<type>s` counter (SM:919-938), when the cleanup deletes a leak. */
  leakDeleted(provider: string, type: string): void {
    this.statsd?.incr(`nodepool.provider.${provider}.leaked.${type}s`);
  }
}
