/**
 * Per-provider state the engine shares between the provider's pool workers: active launches
 * (for `max-concurrency`), the cloud's limits and the usage that is not ours (cached, as
 * Nodepool caches them for 300 s, UTL:36, SM:836-865), and the signal that cancels launches on
 * stop.
 */
import { setMaxListeners } from 'node:events';
import type { Provider } from '../plugins/driver';
import { isTaggedFor, NODE_ID_TAG } from '../plugins/leak-tags';
import type { Logger } from '../plugins/logger';
import { QuotaInformation } from '../plugins/quota';
import type { Instance } from '../plugins/state-machine';

/** Default lifetime of the cached limits and unmanaged usage, ms. */
export const QUOTA_CACHE_MS = 300_000;

/** Collects an async iterable or a promised array. */
export async function collect<T>(source: AsyncIterable<T> | Promise<T[]> | T[]): Promise<T[]> {
  if (Array.isArray(source)) return source;
  if (source instanceof Promise) return source;
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** See the module comment. */
export class ProviderRuntime {
  /** Launches in flight across the provider's pools. */
  activeLaunches = 0;
  /** Aborted when the provider stops: cancels its launches. */
  readonly abort = new AbortController();
  private cached: { at: number; limits: QuotaInformation; available: QuotaInformation } | undefined;

  constructor(
    readonly provider: Provider,
    private readonly logger: Logger,
    private readonly cacheMs = QUOTA_CACHE_MS,
  ) {
    // Every launch in flight listens on this signal; dozens at once are normal, not a leak
    // (node warns from 11 on, seen under the fault tests' load).
    setMaxListeners(0, this.abort.signal);
  }

  /** Whether another launch may start under `max-concurrency` (`-1`/unset = unlimited). */
  mayLaunch(): boolean {
    const max = this.provider.config.maxConcurrency;
    return max < 0 || this.activeLaunches < max;
  }

  /** Forgets cached limits (after a quota error from the cloud). */
  invalidateQuota(): void {
    this.cached = undefined;
  }

  /** The cloud's limits (∞ when the driver reports none or cannot be asked). */
  async limits(ourNodeIds: ReadonlySet<string>): Promise<QuotaInformation> {
    return (await this.refresh(ourNodeIds)).limits;
  }

  /** The cloud's limits less what instances that are not ours use. */
  async available(ourNodeIds: ReadonlySet<string>): Promise<QuotaInformation> {
    return (await this.refresh(ourNodeIds)).available;
  }

  private async refresh(ourNodeIds: ReadonlySet<string>): Promise<{ limits: QuotaInformation; available: QuotaInformation }> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached;
    const { provider } = this;
    let limits = QuotaInformation.unlimited();
    let unmanaged = new QuotaInformation();
    try {
      if (provider.getQuotaLimits) limits = await provider.getQuotaLimits();
      if (provider.listInstances) {
        for (const instance of await collect(provider.listInstances())) {
          if (!this.isOurs(instance, ourNodeIds)) unmanaged = unmanaged.add(instance.quota ?? new QuotaInformation({ instances: 1 }));
        }
      }
    } catch (err) {
      // Without fresh figures keep launching against the caps we know; the cloud will refuse
      // with a quota error if we are wrong, which aborts the launch without failing it.
      this.logger.warn('cannot read provider quota', { provider: provider.name, err: (err as Error).message });
      limits = this.cached?.limits ?? QuotaInformation.unlimited();
      unmanaged = new QuotaInformation();
    }
    this.cached = { at: Date.now(), limits, available: limits.subtract(unmanaged) };
    return this.cached;
  }

  /** Tagged with our provider name and a node id that exists in ZooKeeper. */
  private isOurs(instance: Instance, ourNodeIds: ReadonlySet<string>): boolean {
    return isTaggedFor(instance.metadata, this.provider.name) && ourNodeIds.has(instance.metadata[NODE_ID_TAG]);
  }
}
