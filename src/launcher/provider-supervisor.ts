/**
 * Runs the configured providers each on its own, so one that hangs or fails holds up neither the
 * others nor the engine's workers. Every start runs in the background under a time limit; a
 * provider whose driver throws, rejects or overruns is `failed`, logged with what it threw, and
 * started again with a doubling backoff. An edited provider that launches starts anew beside its
 * old copy, which stops taking requests, finishes its launches (their nodes go to their
 * requests) and its deletes, and only then stops: Nodepool keeps the old provider until its
 * launches and deletes end. A removed provider, or an edited one that never launches (static),
 * stops first: its requests in hand go back to `requested`.
 */
import type { PoolWorker } from './pool-worker';
import { ProviderRuntime } from './provider-runtime';
import { providerSignature } from './provider-signature';
import { thrownMessage } from '../kernel/plugins/thrown-message';
import type { Provider, ProviderContext, ProviderDriver } from '../plugins/driver';
import type { Logger } from '../plugins/logger';
import type { NodepoolConfig, ProviderConfig } from '../plugins/nodepool-config';
import type { ProviderState, ProviderStateName } from '../plugins/provider-state';

/** What a {@link ProviderSupervisor} needs from the engine. */
export interface ProviderSupervisorOptions {
  /** The driver of a `driver:` name, if a plugin provides it. */
  driver(name: string): ProviderDriver | undefined;
  /** The context a provider is created with, for the whole configuration in force. */
  context(config: NodepoolConfig): ProviderContext;
  /** The pool workers of a started provider (not started yet). */
  createWorkers(runtime: ProviderRuntime, config: ProviderConfig): PoolWorker[];
  logger: Logger;
  /** Resolves once the deletes running through this provider object have ended. */
  deletesSettled?(provider: Provider): Promise<void>;
  /** Called after every state change (component record, metrics). */
  onChange?(): void;
  /**
   * Resolves once the launcher's record shows the providers' current states (awaited between a
   * provider's `starting` and its `start()`: see LauncherComponent.written).
   */
  announced?: () => Promise<void>;
  /** Time limit of `start()`, ms (default 120000). */
  startTimeoutMs?: number;
  /** Time limit of `stop()`, ms (default 30000). */
  stopTimeoutMs?: number;
  /** First retry delay after a failed start, ms (default 5000); doubles up to {@link retryMaxMs}. */
  retryMs?: number;
  /** Longest retry delay, ms (default 300000). */
  retryMaxMs?: number;
  /** Lifetime of cached cloud limits, ms (see ProviderRuntime). */
  quotaCacheMs?: number;
}

/** One copy of a configured provider. */
interface Entry {
  name: string;
  driver: string;
  config: ProviderConfig;
  signature: string;
  state: ProviderStateName;
  since: number;
  error?: string;
  retryAt?: number;
  /** Failed starts in a row (the backoff's exponent). */
  failures: number;
  provider?: Provider;
  runtime?: ProviderRuntime;
  workers: PoolWorker[];
  timer?: NodeJS.Timeout;
  /** Replaced, removed or stopped: a start still running is undone when it ends. */
  retired: boolean;
  /** The provider object's stop, once begun (it runs once). */
  stopped?: Promise<void>;
}

type Outcome = { kind: 'ok' } | { kind: 'error'; err: unknown } | { kind: 'timeout' };

/** `work` settled, or the time limit passed first. Never rejects. */
async function within(work: () => Promise<unknown>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
  });
  const run = Promise.resolve()
    .then(work)
    .then((): Outcome => ({ kind: 'ok' }), (err: unknown): Outcome => ({ kind: 'error', err }));
  try {
    return await Promise.race([run, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** See the module comment. */
export class ProviderSupervisor {
  /** The copy of each configured provider that serves (or will once started). */
  private readonly current = new Map<string, Entry>();
  /** Old copies still draining or stopping. */
  private readonly old = new Set<Entry>();
  /** Started provider objects by name: what the deleted-node and cleanup workers use. */
  readonly providers = new Map<string, Provider>();
  /** The latest configuration applied (retries create providers with it). */
  private config: NodepoolConfig | undefined;
  private halted = false;
  private readonly log: Logger;

  constructor(private readonly options: ProviderSupervisorOptions) {
    this.log = options.logger;
  }

  /** The running pool workers. */
  get pools(): PoolWorker[] {
    return [...this.current.values()].filter((e) => e.state === 'running').flatMap((e) => e.workers);
  }

  /** The runtimes of the running providers by name. */
  get runtimes(): ReadonlyMap<string, ProviderRuntime> {
    return new Map([...this.current.values()].filter((e) => e.state === 'running' && e.runtime).map((e) => [e.name, e.runtime as ProviderRuntime]));
  }

  /** Every provider copy's state, by name; an old copy after its new one. */
  states(): ProviderState[] {
    const view = (e: Entry): ProviderState => ({
      name: e.name,
      driver: e.driver,
      state: e.state,
      since: e.since,
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.retryAt !== undefined ? { retryAt: e.retryAt } : {}),
    });
    const all = [...[...this.current.values()].map(view), ...[...this.old].map(view)];
    const rank = (s: ProviderState): number => (s.state === 'draining' || s.state === 'stopping' ? 1 : 0);
    return all.sort((a, b) => a.name.localeCompare(b.name) || rank(a) - rank(b));
  }

  /**
   * Brings the providers in line with `config`: unchanged ones keep running (failed ones keep
   * their retry), edited ones start anew (see the module comment), new ones start, removed ones
   * stop. Returns at once; the promise resolves when every start begun here has succeeded,
   * failed or overrun (the engine waits for it a little at start-up only). Never rejects.
   */
  apply(config: NodepoolConfig): Promise<void> {
    this.config = config;
    const after = new Map<string, Promise<void>>();
    for (const [name, entry] of [...this.current]) {
      const next = config.providers.get(name);
      if (next && providerSignature(next, config) === entry.signature) continue;
      this.current.delete(name);
      if (next && entry.state === 'running' && entry.provider?.launches) {
        this.log.info(`provider ${name} changed: starting the new configuration beside the old one, which finishes its launches and deletes first`, { provider: name });
        void this.drain(entry);
        continue;
      }
      this.log.info(next ? `provider ${name} changed: restarting it` : `provider ${name} removed: stopping it`, { provider: name });
      // The new copy of a provider that does not drain (static) starts once the old one stopped.
      after.set(name, this.retire(entry));
    }
    const starts: Promise<void>[] = [];
    for (const providerConfig of config.providers.values()) {
      if (this.current.has(providerConfig.name)) continue;
      const entry: Entry = {
        name: providerConfig.name,
        driver: providerConfig.driver,
        config: providerConfig,
        signature: providerSignature(providerConfig, config),
        state: 'starting',
        since: Date.now(),
        failures: 0,
        workers: [],
        retired: false,
      };
      this.current.set(entry.name, entry);
      starts.push(this.start(entry, after.get(entry.name)));
    }
    this.changed();
    return Promise.all(starts).then(() => undefined);
  }

  /**
   * First phase of the engine's stop: no more starts or retries; every copy's launches are
   * cancelled and its pool workers hand back their requests.
   */
  async halt(): Promise<void> {
    this.halted = true;
    const entries = [...this.current.values(), ...this.old];
    await Promise.all(entries.map(async (entry) => {
      entry.retired = true;
      clearTimeout(entry.timer);
      if (entry.state !== 'failed') this.set(entry, 'stopping');
      entry.runtime?.abort.abort();
      const workers = entry.workers;
      entry.workers = [];
      await Promise.all(workers.map((w) => w.stop()));
    }));
  }

  /** Second phase: every provider object stops (each within its time limit). */
  async stopAll(): Promise<void> {
    const entries = [...this.current.values(), ...this.old];
    await Promise.all(entries.map((entry) => this.stopObject(entry)));
    this.current.clear();
    this.old.clear();
    this.providers.clear();
    this.changed();
  }

  private async start(entry: Entry, after?: Promise<void>): Promise<void> {
    await after;
    if (entry.retired || this.halted) return;
    this.set(entry, 'starting');
    await this.options.announced?.();
    if (entry.retired || this.halted) return;
    const driver = this.options.driver(entry.driver);
    if (!driver) {
      // Plugins load once per process: retrying cannot help; an edit of the provider can.
      this.fail(entry, `no driver "${entry.driver}" (no loaded plugin provides it)`, false);
      return;
    }
    const config = this.config as NodepoolConfig;
    let provider: Provider;
    try {
      provider = driver.createProvider(entry.config, this.options.context(config));
    } catch (err) {
      this.fail(entry, `createProvider() threw: ${thrownMessage(err)}`, true);
      return;
    }
    entry.provider = provider;
    const limitMs = this.options.startTimeoutMs ?? 120_000;
    const outcome = await within(() => provider.start(), limitMs);
    if (outcome.kind !== 'ok') {
      // Whatever it holds half-started is released in the background (stop is bounded too).
      void this.stopObject(entry);
      if (!entry.retired) this.fail(entry, outcome.kind === 'timeout' ? `start() did not finish within ${limitMs / 1000} s` : `start() failed: ${thrownMessage(outcome.err)}`, true);
      return;
    }
    if (entry.retired) {
      await this.stopObject(entry);
      return;
    }
    const runtime = new ProviderRuntime(provider, this.log, this.options.quotaCacheMs);
    entry.runtime = runtime;
    this.providers.set(entry.name, provider);
    const workers = this.options.createWorkers(runtime, entry.config);
    entry.workers = workers;
    try {
      for (const worker of workers) await worker.start();
    } catch (err) {
      entry.workers = [];
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      if (this.providers.get(entry.name) === provider) this.providers.delete(entry.name);
      void this.stopObject(entry);
      if (!entry.retired) this.fail(entry, `its pools did not start: ${thrownMessage(err)}`, true);
      return;
    }
    if (entry.retired) {
      // Edited, removed or halted while its pools started: undo (halt() took the workers already).
      const started = entry.workers;
      entry.workers = [];
      await Promise.all(started.map((w) => w.stop()));
      await this.stopObject(entry);
      return;
    }
    entry.failures = 0;
    this.set(entry, 'running');
    if (entry.error) this.log.info(`provider ${entry.name} running again`, { provider: entry.name });
    entry.error = undefined;
  }

  /** Marks a failed start; with `retry`, a new attempt follows after the backoff. */
  private fail(entry: Entry, message: string, retry: boolean): void {
    entry.provider = undefined;
    entry.runtime = undefined;
    entry.stopped = undefined;
    entry.error = message;
    entry.failures += 1;
    const base = this.options.retryMs ?? 5000;
    const delay = Math.min(base * 2 ** (entry.failures - 1), this.options.retryMaxMs ?? 300_000);
    entry.retryAt = retry ? Date.now() + delay : undefined;
    this.set(entry, 'failed');
    this.log.error(`provider ${entry.name} did not start: ${message}${retry ? `; next attempt in ${Math.round(delay / 100) / 10} s` : ''}`, { provider: entry.name });
    if (!retry) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!entry.retired && !this.halted) void this.start(entry);
    }, delay);
    entry.timer.unref();
  }

  /** Stops a copy that no longer serves; its requests in hand go back. */
  private async retire(entry: Entry): Promise<void> {
    entry.retired = true;
    clearTimeout(entry.timer);
    // Still starting: the start undoes itself when it ends; failed: nothing runs.
    if (entry.state !== 'running') return;
    this.old.add(entry);
    this.set(entry, 'stopping');
    entry.runtime?.abort.abort();
    const workers = entry.workers;
    entry.workers = [];
    await Promise.all(workers.map((w) => w.stop()));
    await this.stopObject(entry);
    this.old.delete(entry);
    this.changed();
  }

  /** The old copy of an edited provider: its launches and deletes end, then it stops. */
  private async drain(entry: Entry): Promise<void> {
    entry.retired = true;
    this.old.add(entry);
    this.set(entry, 'draining');
    const workers = entry.workers;
    await Promise.all(workers.map((w) => w.drain()));
    entry.workers = [];
    const provider = entry.provider as Provider;
    // No new delete goes to the old copy; the new one takes them once it runs.
    if (this.providers.get(entry.name) === provider) this.providers.delete(entry.name);
    await this.options.deletesSettled?.(provider);
    if (!this.halted) this.set(entry, 'stopping');
    await this.stopObject(entry);
    this.old.delete(entry);
    this.log.info(`old copy of provider ${entry.name} stopped`, { provider: entry.name });
    this.changed();
  }

  /** Stops the provider object once, within its time limit; failures are logged. */
  private stopObject(entry: Entry): Promise<void> {
    const provider = entry.provider;
    if (!provider) return Promise.resolve();
    if (this.providers.get(entry.name) === provider) this.providers.delete(entry.name);
    entry.stopped ??= (async () => {
      const limitMs = this.options.stopTimeoutMs ?? 30_000;
      const outcome = await within(() => provider.stop(), limitMs);
      if (outcome.kind === 'timeout') this.log.warn(`provider ${entry.name}: stop() did not finish within ${limitMs / 1000} s`, { provider: entry.name });
      else if (outcome.kind === 'error') this.log.warn(`provider ${entry.name}: stop() failed: ${thrownMessage(outcome.err)}`, { provider: entry.name });
    })();
    return entry.stopped;
  }

  private set(entry: Entry, state: ProviderStateName): void {
    if (entry.state === state) return;
    entry.state = state;
    entry.since = Date.now();
    if (state !== 'failed') entry.retryAt = undefined;
    this.changed();
  }

  private changed(): void {
    try {
      this.options.onChange?.();
    } catch (err) {
      this.log.warn('provider state listener failed', { err: thrownMessage(err) });
    }
  }
}
