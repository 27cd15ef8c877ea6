/**
 * Launch of one node through a provider's create state machine:
 * prepare and store the node, advance the machine, copy the instance onto the node, nodescan,
 * `ready`. Failed attempts are cleaned up with a delete machine and retried on the same node.
 */
import { context as otelContext, trace, type Context, type Span } from '@opentelemetry/api';
import type { Provider } from './driver';
import { applyInstance, prepareLaunchedNode } from './launched-node';
import { leakTags } from './leak-tags';
import type { Logger } from './logger';
import type { PoolConfig } from './nodepool-config';
import { nodescan, NodescanError } from './nodescan';
import { runStateMachine, StateMachineCancelledError, StateMachineTimeoutError } from './run-state-machine';
import { NotFoundError, QuotaError, type StateMachine } from './state-machine';
import type { Tracer } from './tracer';
import { SessionExpiredError, type ZooKeeper } from './zookeeper';
import type { Node } from './models/node';
import type { NodeLaunchSettings } from './node-launch-settings';

export { DEFAULT_LAUNCH_SETTINGS, type NodeLaunchSettings } from './node-launch-settings';

/** What a {@link NodeLauncher} needs. */
export interface NodeLauncherOptions {
  /** Where the node record is stored. */
  zk: ZooKeeper;
  /** The provider launching it. */
  provider: Provider;
  /** The node: already locked by the caller, state `building`, id set. */
  node: Node;
  /** The label to launch. */
  label: string;
  /** The pool it is launched in. */
  pool: PoolConfig;
  /** Retries, timeouts and connection defaults of the label. */
  settings: NodeLaunchSettings;
  /** Logger (lines carry the node id). */
  logger: Logger;
  /** Tracer of the launch span; none = no span. */
  tracer?: Tracer;
  /** Parent of the launch span (the request's span); the active context when absent. */
  traceContext?: Context;
  /** Availability zone chosen for the request, if any. */
  az?: string | null;
  /** Pause between `advance()` calls that made no progress, ms (default 1000). */
  pollInterval?: number;
  /** Bound of the cleanup delete machine between attempts, s (default 600). */
  deleteTimeout?: number;
  /** Aborting it stops the launch (launcher shutdown); {@link NodeLauncher.run} then rejects. */
  signal?: AbortSignal;
  /**
   * Told of each failed attempt that is retried, with its outcome key and duration (ms since the
   * launch started, as Nodepool times it). The attempt that ends the launch is the result of
   * {@link NodeLauncher.run} instead, so every attempt is reported once (Nodepool records launch
   * stats per attempt).
   */
  onAttemptFailed?: (statsKey: string, durationMs: number) => void;
  /**
   * A create machine rebuilt by `Provider.resumeCreateStateMachine` for a launch a dead launcher
   * left: the node is taken as stored (not prepared again) and this machine is its only attempt,
   * so a resume that fails ends `failed` and the node is deleted, as it would have been unresumed.
   */
  resume?: StateMachine;
}

/** Outcome of a launch; the node has been stored in this state. */
export interface LaunchResult {
  /** The node's final state: `aborted` for a quota refusal or cancellation. */
  state: 'ready' | 'failed' | 'aborted';
  /** Attempts counted against `launch-retries` (a quota refusal is not counted). */
  attempts: number;
  /** The error that ended the launch (failed/aborted). */
  error?: Error;
  /**
   * Outcome key of Nodepool's launch statsd metrics: `ready`, `error.quota`,
   * `error.zksession`, `error.keyscan`, `error.servercreatetimeout` or `error.unknown`.
   */
  statsKey: string;
}

function statsKeyOf(error: Error): string {
  if (error instanceof QuotaError) return 'error.quota';
  if (error instanceof SessionExpiredError) return 'error.zksession';
  if (error instanceof NodescanError) return 'error.keyscan';
  if (error instanceof StateMachineTimeoutError) return 'error.servercreatetimeout';
  return 'error.unknown';
}

const INSTANCE_FIELDS = ['external_id', 'interface_ip', 'public_ipv4', 'private_ipv4', 'public_ipv6', 'host_id', 'cloud', 'region', 'driver_data'] as const;

/**
 * Launches one node. Create one per node and call {@link NodeLauncher.run} once. It never
 * unlocks the node: the caller (request handler) owns the lock.
 */
export class NodeLauncher {
  private readonly log: Logger;
  private attempts = 0;
  private startedAt = Date.now();
  /** Unix seconds the current attempt started (stored in `nodepool_ts_launch`). */
  private attemptSince = 0;
  /** Context of the launch span: step spans are its children. */
  private spanContext: Context = otelContext.active();
  /** The span of the state-machine step in progress. */
  private step: Span | undefined;

  constructor(private readonly options: NodeLauncherOptions) {
    this.log = options.logger.child({ node: options.node.id, provider: options.provider.name, label: options.label });
  }

  /**
   * Runs the launch to `ready`, `failed` or `aborted`, storing the node. Rejects with
   * `StateMachineCancelledError` when cancelled (the node stays `building`, for the engine's
   * cleanup to reap), or with a ZooKeeper error when the final store fails.
   */
  async run(): Promise<LaunchResult> {
    const { tracer, node } = this.options;
    const parent = this.options.traceContext ?? otelContext.active();
    const span = tracer?.startSpan('nodepool.launch', {
      attributes: { 'nodepool.node': node.id ?? '', 'nodepool.label': this.options.label, 'nodepool.provider': this.options.provider.name },
    }, parent);
    this.spanContext = span ? trace.setSpan(parent, span) : parent;
    try {
      const result = await this.launch(span);
      span?.setAttribute('nodepool.launch.state', result.state);
      span?.setAttribute('nodepool.launch.attempts', result.attempts);
      return result;
    } catch (err) {
      span?.recordException(err as Error);
      throw err;
    } finally {
      this.endStep();
      span?.end();
    }
  }

  /** Starts the span of a state-machine step (ending the previous one). */
  private startStep(name: string, attributes: Record<string, string | number> = {}): void {
    this.endStep();
    this.step = this.options.tracer?.startSpan(name, { attributes: { 'nodepool.node': this.options.node.id ?? '', attempt: this.attempts, ...attributes } }, this.spanContext);
  }

  private endStep(error?: Error): void {
    if (error) this.step?.recordException(error);
    this.step?.end();
    this.step = undefined;
  }

  private async launch(span: Span | undefined): Promise<LaunchResult> {
    const { zk, node, resume } = this.options;
    this.startedAt = Date.now();
    if (resume) {
      this.attempts = (node.nodepool_ts_launch?.attempt ?? 1) - 1;
      this.attemptSince = node.nodepool_ts_launch?.since ?? 0;
    } else {
      this.prepare();
      await zk.storeNode(node);
    }
    for (;;) {
      this.attempts++;
      if (!resume) this.attemptSince = Math.floor(Date.now() / 1000);
      span?.addEvent('attempt', { attempt: this.attempts });
      let externalId: unknown = null;
      try {
        this.startStep('nodepool.launch.step', { 'nodepool.step': 'start' });
        externalId = await this.attempt((id) => (externalId = id));
        this.endStep();
        this.log.info('node is ready', { attempts: this.attempts, external_id: externalId });
        return { state: 'ready', attempts: this.attempts, statsKey: 'ready' };
      } catch (err) {
        if (err instanceof StateMachineCancelledError) throw err;
        const error = err instanceof Error ? err : new Error(String(err));
        this.endStep(error);
        if (error instanceof QuotaError) {
          // Not a failed attempt: the request handler pauses and launches again later.
          this.attempts--;
          this.log.info('launch aborted by a quota error', { err: error.message });
          return this.finish('aborted', error);
        }
        this.log.warn('launch attempt failed', { attempt: this.attempts, of: this.options.settings.launchRetries, err: error.message });
        if (error instanceof NodescanError) await this.nodescanFailed();
        // Without the session the node lock is gone too: retrying would race the new owner.
        if (error instanceof SessionExpiredError) return this.finish('failed', error);
        if (resume || this.attempts >= this.options.settings.launchRetries) return this.finish('failed', error);
        try {
          this.options.onAttemptFailed?.(statsKeyOf(error), Date.now() - this.startedAt);
        } catch (hookErr) {
          this.log.warn('attempt hook failed', { err: (hookErr as Error).message });
        }
        await this.cleanupPartial(externalId ?? node.external_id);
        this.resetInstanceFields();
        await zk.storeNode(node);
      }
    }
  }

  /** Fields a launch fills before the first machine. */
  private prepare(): void {
    const { node, settings, provider, pool, label } = this.options;
    prepareLaunchedNode(node, provider, pool, label, settings);
  }

  /** One create machine to completion, then the nodescan; returns the external id. */
  private async attempt(onExternalId: (id: unknown) => void): Promise<unknown> {
    const { zk, node, settings } = this.options;
    // A resumed launch has this one attempt (see NodeLauncherOptions.resume).
    const machine = this.options.resume ?? this.newCreateMachine(node.id ?? '');
    let lastState: unknown = machine.state;
    const instance = await runStateMachine(machine, {
      timeoutMs: settings.launchTimeout * 1000,
      pollMs: this.options.pollInterval,
      signal: this.options.signal,
      what: 'create',
      onProgress: async (m) => {
        if (this.step && m.state !== lastState) this.startStep('nodepool.launch.step', { 'nodepool.step': String(m.state) });
        lastState = m.state;
        this.log.debug('create state', { state: m.state });
        // Stored as soon as known, so a crash leaves a record the cleanup can delete by, and with
        // the machine's state a launcher taking the node over can resume from. The completed
        // state is not stored: the instance is copied onto the node right after.
        const known = m.externalId !== null && m.externalId !== undefined;
        const saved = node.nodepool_ts_launch;
        if (known && !m.complete && (m.externalId !== node.external_id || saved?.machine_state !== m.state)) {
          onExternalId(m.externalId);
          node.external_id = m.externalId;
          node.nodepool_ts_launch = { machine_state: m.state, external_id: m.externalId, attempt: this.attempts, since: this.attemptSince };
          await zk.storeNode(node);
        }
      },
    });
    if (!instance) throw new Error('create state machine completed without an instance');
    onExternalId(instance.externalId ?? machine.externalId);
    applyInstance(node, instance);
    await zk.storeNode(node);
    if (settings.hostKeyChecking) {
      this.startStep('nodepool.launch.step', { 'nodepool.step': 'nodescan' });
      if (!node.interface_ip) throw new Error('instance has no interface ip to scan');
      node.host_keys = await nodescan({
        host: node.interface_ip,
        port: Number(node.connection_port),
        connectionType: node.connection_type,
        timeoutMs: settings.bootTimeout * 1000,
        signal: this.options.signal,
      });
    }
    node.state = 'ready';
    node.nodepool_ts_launch = null;
    await zk.storeNode(node);
    return node.external_id;
  }

  private newCreateMachine(id: string): StateMachine {
    const { node, provider, pool, label, settings } = this.options;
    if (!provider.getCreateStateMachine) throw new Error(`provider ${provider.name} cannot create instances`);
    return provider.getCreateStateMachine(
      {
        hostname: `np${id}`,
        label,
        pool: pool.name,
        imageExternalId: settings.imageExternalId ?? null,
        metadata: leakTags(id, pool.name, provider.name),
        nodeId: id,
        requestId: node.allocated_to,
        az: this.options.az ?? null,
      },
      this.log,
    );
  }

  private resetInstanceFields(): void {
    const { node } = this.options;
    for (const key of INSTANCE_FIELDS) node[key] = null;
    node.host_keys = [];
    node.nodepool_ts_launch = null;
  }

  /** Tells the provider, while the instance still exists. Never throws. */
  private async nodescanFailed(): Promise<void> {
    const { provider, node, label, pool } = this.options;
    try {
      await provider.nodescanFailed?.(node, label, pool, this.log);
    } catch (err) {
      this.log.warn('provider nodescanFailed hook failed', { err: (err as Error).message });
    }
  }

  /** Deletes what a failed attempt created before the next one. */
  private async cleanupPartial(externalId: unknown): Promise<void> {
    const { provider } = this.options;
    if (externalId === null || externalId === undefined || !provider.getDeleteStateMachine) return;
    try {
      await runStateMachine(provider.getDeleteStateMachine(externalId, this.log), {
        timeoutMs: (this.options.deleteTimeout ?? 600) * 1000,
        pollMs: this.options.pollInterval,
        signal: this.options.signal,
        what: 'delete',
      });
    } catch (err) {
      if (err instanceof StateMachineCancelledError) throw err;
      // What stays behind is found by leak detection; the retry goes ahead regardless.
      if (!(err instanceof NotFoundError)) this.log.warn('cleanup of failed attempt failed', { external_id: externalId, err: (err as Error).message });
    }
  }

  /** Tells the provider, so e.g. metastatic retires the backing node first. */
  private async finish(state: 'failed' | 'aborted', error: Error): Promise<LaunchResult> {
    const { node, zk } = this.options;
    node.state = state;
    node.nodepool_ts_launch = null;
    if (error instanceof SessionExpiredError) {
      // Nodepool keeps `failed` only in memory here; the cleanup reaps the stale `building` node.
      await zk.storeNode(node).catch((err: unknown) => this.log.warn('could not store failed node', { err: (err as Error).message }));
    } else {
      await zk.storeNode(node);
    }
    return { state, attempts: this.attempts, error, statsKey: statsKeyOf(error) };
  }
}
