/**
 * The engine's {@link LauncherFleet}: watch-fed copies of `/nodepool/components/launcher` and
 * `/nodepool/components/pool`, and from them the launchers that are not nodepool-ts (their
 * `version` lacks our suffix) and the providers their pools serve.
 *
 * A Python launcher registers its launcher record before it starts its providers and its pool
 * records only after (LCH:1150-1154, 1179, 1390-1398): in between it may already be registering
 * static slots, so a foreign launcher without pools counts as serving every provider for a
 * while ({@link LauncherFleetOptions.startingGraceMs}). Its pools then appear one by one, provider
 * after provider, so until none has been added for {@link LauncherFleetOptions.settleMs} it still
 * counts as serving every provider (seen: ours took a metastatic request in the gap between
 * Python's `backing` and `meta` pool records). When it stops gracefully its pool records
 * go first and its launcher record last (LCH:1082-1119, its deleter threads may still be
 * re-registering slots in between), so a provider a live foreign launcher served a moment ago
 * still counts as served by it for {@link LauncherFleetOptions.stickyMs}.
 */
import { NODEPOOL_TS_VERSION_SUFFIX, type ForeignLauncher, type LauncherFleet } from '../plugins/launcher-fleet';
import type { Logger } from '../plugins/logger';
import type { ZooKeeperClient } from '../plugins/zookeeper';
import { parseComponent, type ComponentRecord } from '../zk/models/component';
import { componentPath } from '../zk/nodepool-paths';
import { ZnodeCache } from '../zk/znode-cache';

/** How to build a {@link LauncherFleetImpl}. */
export interface LauncherFleetOptions {
  client: ZooKeeperClient;
  logger: Logger;
  /**
   * How long a foreign launcher with no pool records yet counts as serving every provider, ms
   * (default 120 s). Past it, it serves none until a pool appears (a launcher without providers).
   */
  startingGraceMs?: number;
  /**
   * How long a live foreign launcher still counts as serving a provider after its last pool of
   * it went away, ms (default 30 s).
   */
  stickyMs?: number;
  /** How long after a foreign launcher's last new pool record it still counts as starting, ms (default 10 s). */
  settleMs?: number;
  /**
   * How long after a nodepool-ts launcher record vanished other launchers' node creates are read
   * again, ms (default 60 s; see {@link LauncherFleetImpl.othersMayCreateNodesOf}).
   */
  departedCreatesMs?: number;
  /** Our launcher record's znode name, when registered (see {@link LauncherFleetImpl.othersMayServe}). */
  ownLauncher?: () => string | undefined;
  /** Whether a pool id is one of ours. */
  ownPool?: (id: string) => boolean;
  /** Clock, ms (tests). */
  now?: () => number;
}

/** See the module comment. */
export class LauncherFleetImpl implements LauncherFleet {
  private readonly launchers: ZnodeCache;
  private readonly pools: ZnodeCache;
  private readonly listeners = new Set<(removed: boolean) => void>();
  /** When each launcher znode was first seen by us (its age is not in the record). */
  private readonly firstSeen = new Map<string, number>();
  private readonly log: Logger;
  private unsubscribe: Array<() => void> = [];
  private readonly parsed = new Map<string, { version: number; record: ComponentRecord | undefined }>();
  /** When a pool record of each hostname last appeared. */
  private readonly poolAdded = new Map<string, number>();
  private loaded = false;
  /** Re-checks the time-based windows (starting, settling, sticky), which end without an event. */
  private ticker: NodeJS.Timeout | undefined;
  private lastView = '';
  /** Per foreign launcher hostname: providers its pools served, and when the last one went. */
  private readonly served = new Map<string, Map<string, number | 'now'>>();
  /** Until when a vanished nodepool-ts launcher record counts (see {@link othersMayCreateNodesOf}). */
  private tsLauncherLeftUntil = 0;
  /** Record changes seen so far (the memo's key). */
  private changes = 0;
  private memoized: { served: ReadonlySet<string> | 'any'; foreign: boolean; changes: number; ownLauncher: string | undefined; at: number } | undefined;

  constructor(private readonly options: LauncherFleetOptions) {
    this.log = options.logger.child({ component: 'launcher-fleet' });
    this.launchers = new ZnodeCache(options.client, componentPath('launcher'), this.log);
    this.pools = new ZnodeCache(options.client, componentPath('pool'), this.log);
  }

  /** Loads both copies and starts following changes. */
  async start(): Promise<void> {
    const launcherChanged = (id: string, current: unknown, previous: { data: Buffer } | undefined): void => {
      if (!current && previous) {
        try {
          if (ours(parseComponent(id, previous.data))) this.tsLauncherLeftUntil = this.now() + (this.options.departedCreatesMs ?? 60_000);
        } catch {
          this.tsLauncherLeftUntil = this.now() + (this.options.departedCreatesMs ?? 60_000);
        }
      }
      changed(id, current);
    };
    const changed = (id: string, current: unknown): void => {
      this.changes++;
      if (current && !this.firstSeen.has(id)) this.firstSeen.set(id, this.now());
      if (!current) this.firstSeen.delete(id);
      this.noteServed();
      this.emit(!current);
    };
    const poolChanged = (id: string, current: { data: Buffer } | undefined, previous: unknown): void => {
      // Records there before our start are not new: their launcher may have been up for days.
      if (current && !previous && this.loaded) {
        try {
          this.poolAdded.set(parseComponent(id, current.data).hostname, this.now());
        } catch {
          // unreadable: skipped like everywhere else
        }
      }
      changed(id, current);
    };
    this.unsubscribe = [this.launchers.subscribe(launcherChanged), this.pools.subscribe(poolChanged)];
    await Promise.all([this.launchers.start(), this.pools.start()]);
    this.loaded = true;
    this.lastView = this.view();
    this.ticker = setInterval(() => {
      const view = this.view();
      if (view !== this.lastView) this.emit(false);
    }, 1000);
    this.ticker.unref();
    for (const entry of this.launchers.values()) if (!this.firstSeen.has(entry.id)) this.firstSeen.set(entry.id, this.now());
    this.noteServed();
  }

  /** Stamps the providers whose last foreign pool just went (see the module comment). */
  private noteServed(): void {
    const current = new Map<string, Set<string>>();
    for (const [, pool] of this.records(this.pools)) {
      if (ours(pool)) continue;
      const set = current.get(pool.hostname) ?? new Set<string>();
      set.add(String(pool.provider_name ?? ''));
      current.set(pool.hostname, set);
    }
    const live = new Set(this.records(this.launchers).filter(([, r]) => !ours(r)).map(([, r]) => r.hostname));
    for (const [hostname, providers] of current) {
      const entry = this.served.get(hostname) ?? new Map<string, number | 'now'>();
      for (const provider of providers) entry.set(provider, 'now');
      this.served.set(hostname, entry);
    }
    for (const [hostname, entry] of this.served) {
      // The launcher itself is gone: nothing of it can still be running.
      if (!live.has(hostname) && !current.has(hostname)) {
        this.served.delete(hostname);
        continue;
      }
      for (const [provider, at] of entry) if (at === 'now' && !current.get(hostname)?.has(provider)) entry.set(provider, this.now());
    }
  }

  /** Stops following changes. */
  stop(): void {
    clearInterval(this.ticker);
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.launchers.stop();
    this.pools.stop();
  }

  onChange(listener: (removed: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  foreignLaunchers(): ForeignLauncher[] {
    const foreignPools = this.records(this.pools).filter(([, r]) => !ours(r));
    const out: ForeignLauncher[] = [];
    const grace = this.options.startingGraceMs ?? 120_000;
    for (const [id, record] of this.records(this.launchers)) {
      if (ours(record)) continue;
      const providers = [...new Set(foreignPools.filter(([, p]) => p.hostname === record.hostname).map(([, p]) => String(p.provider_name ?? '')))];
      const sticky = this.options.stickyMs ?? 30_000;
      for (const [provider, at] of this.served.get(record.hostname) ?? []) {
        if (!providers.includes(provider) && (at === 'now' || this.now() - at < sticky)) providers.push(provider);
      }
      const settling = this.now() - (this.poolAdded.get(record.hostname) ?? -Infinity) < (this.options.settleMs ?? 10_000);
      const starting = (providers.length === 0 && this.now() - (this.firstSeen.get(id) ?? 0) < grace) || settling;
      out.push({ hostname: record.hostname, version: record.version, providers: starting ? undefined : providers });
    }
    // Pools whose launcher record is missing (an older Nodepool, or a record we could not read).
    const known = new Set(out.map((l) => l.hostname));
    for (const [, pool] of foreignPools) {
      if (known.has(pool.hostname)) continue;
      known.add(pool.hostname);
      const providers = [...new Set(foreignPools.filter(([, p]) => p.hostname === pool.hostname).map(([, p]) => String(p.provider_name ?? '')))];
      out.push({ hostname: pool.hostname, version: pool.version, providers });
    }
    return out;
  }

  othersMayServe(provider: string): boolean {
    return this.othersMayCreateNodesOf((p) => p === provider);
  }

  foreignPresence(provider: string): string | undefined {
    if (!this.launchers.isSynced || !this.pools.isSynced) return 'the launcher registry is not loaded (no ZooKeeper session)';
    for (const launcher of this.foreignLaunchers()) {
      if (launcher.providers === undefined) return `launcher ${launcher.hostname} (${launcher.version || 'no version'}) is starting and may serve ${provider}`;
      if (launcher.providers.includes(provider)) return `launcher ${launcher.hostname} (${launcher.version || 'no version'}) serves ${provider}`;
    }
    return undefined;
  }

  /**
   * Whether a launcher other than ours may create nodes of a provider `followed` accepts, as far
   * as the records tell (issue 17: if not, such creates need not be read). Yes while the view is
   * not loaded or a read is in flight, while any record is unreadable or not nodepool-ts (Nodepool
   * starts its providers before it registers its pools), while a nodepool-ts launcher has not
   * announced its providers (it announces each before starting it), for a while after a
   * nodepool-ts launcher record vanished (the same process may create nodes in a new session
   * before it registers again), and when one of them or a pool not ours serves such a provider.
   * Our own records are told apart by {@link LauncherFleetOptions.ownLauncher} and `ownPool`.
   */
  othersMayCreateNodesOf(followed: (provider: string) => boolean): boolean {
    const served = this.otherServed();
    if (served === 'any') return true;
    for (const provider of served) if (followed(provider)) return true;
    return false;
  }

  /** Whether any record is of a launcher that is not nodepool-ts (as {@link foreignLaunchers} is non-empty). */
  hasForeign(): boolean {
    return this.memo().foreign;
  }

  /** The providers other launchers may serve, or 'any' (see {@link othersMayCreateNodesOf}). */
  private otherServed(): ReadonlySet<string> | 'any' {
    if (!this.options.ownLauncher?.() || !this.launchers.settled || !this.pools.settled) return 'any';
    if (this.now() < this.tsLauncherLeftUntil) return 'any';
    return this.memo().served;
  }

  /**
   * What the records say of the others, computed once per record change (these are asked on every
   * new node and request): at most a second old, so our own pool ids, known only through
   * `ownPool`, are never judged on a stale view for long.
   */
  private memo(): { served: ReadonlySet<string> | 'any'; foreign: boolean } {
    const ownLauncher = this.options.ownLauncher?.();
    const m = this.memoized;
    if (m && m.changes === this.changes && m.ownLauncher === ownLauncher && this.now() - m.at < 1000) return m;
    const next = { ...this.judge(ownLauncher), changes: this.changes, ownLauncher, at: this.now() };
    this.memoized = next;
    return next;
  }

  private judge(ownLauncher: string | undefined): { served: ReadonlySet<string> | 'any'; foreign: boolean } {
    const ownPool = this.options.ownPool ?? ((): boolean => false);
    const launchers = this.records(this.launchers);
    const pools = this.records(this.pools);
    const foreign = launchers.some(([, r]) => !ours(r)) || pools.some(([, r]) => !ours(r));
    if (foreign || launchers.length !== this.launchers.ids().length || pools.length !== this.pools.ids().length) return { served: 'any', foreign };
    const served = new Set<string>();
    for (const [id, record] of launchers) {
      if (id === ownLauncher) continue;
      const { nodepool_ts_providers: providers, nodepool_ts_announces_providers: announces } = record as { nodepool_ts_providers?: unknown; nodepool_ts_announces_providers?: unknown };
      if (announces !== true || !Array.isArray(providers)) return { served: 'any', foreign };
      for (const p of providers as Array<{ name?: unknown }>) {
        if (typeof p?.name !== 'string') return { served: 'any', foreign };
        served.add(p.name);
      }
    }
    for (const [, record] of pools) if (!ownPool(String(record.id ?? ''))) served.add(String(record.provider_name ?? ''));
    return { served, foreign };
  }

  /** Readable records of a cache, parsed once per version; unreadable ones are skipped (logged). */
  private records(cache: ZnodeCache): Array<[string, ComponentRecord]> {
    const out: Array<[string, ComponentRecord]> = [];
    for (const entry of cache.values()) {
      const key = `${cache.root}/${entry.id}`;
      let hit = this.parsed.get(key);
      if (!hit || hit.version !== entry.version) {
        let record: ComponentRecord | undefined;
        try {
          record = parseComponent(key, entry.data);
        } catch (err) {
          this.log.warn(`skipping unreadable component ${key}: ${(err as Error).message}`);
        }
        hit = { version: entry.version, record };
        this.parsed.set(key, hit);
      }
      if (hit.record) out.push([entry.id, hit.record]);
    }
    if (this.parsed.size > 4 * (this.launchers.ids().length + this.pools.ids().length) + 64) this.parsed.clear();
    return out;
  }

  /** The foreign launchers and what they serve, as a string to compare. */
  private view(): string {
    try {
      return JSON.stringify(this.foreignLaunchers());
    } catch {
      return '';
    }
  }

  private emit(removed: boolean): void {
    this.lastView = this.view();
    for (const listener of this.listeners) {
      try {
        listener(removed);
      } catch (err) {
        this.log.error(`launcher fleet listener failed: ${(err as Error).message}`);
      }
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** A record written by nodepool-ts (any version of it). */
function ours(record: ComponentRecord): boolean {
  return record.version.endsWith(NODEPOOL_TS_VERSION_SUFFIX);
}
