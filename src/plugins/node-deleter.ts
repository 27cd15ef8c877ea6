/**
 * Deletion of one node's instance and record:
 * mark `deleting`, run the provider's delete state machine, then remove the znode.
 */
import { context as otelContext, trace, type Context, type Span } from '@opentelemetry/api';
import type { Provider } from './driver';
import type { Logger } from './logger';
import { runStateMachine, StateMachineCancelledError } from './run-state-machine';
import { NotFoundError } from './state-machine';
import type { Tracer } from './tracer';
import type { ZooKeeper } from './zookeeper';
import type { Node } from './models/node';

/** What a {@link NodeDeleter} needs. */
export interface NodeDeleterOptions {
  /** Where the node record is. */
  zk: ZooKeeper;
  /** The provider whose instance is deleted. */
  provider: Provider;
  /** The node, locked by the caller through `zk.lockNode`. */
  node: Node;
  /** Logger (lines carry the node id). */
  logger: Logger;
  /** Tracer of the delete span; none = no span. */
  tracer?: Tracer;
  /** Bound of the delete state machine, s (default 600, as Nodepool). */
  deleteTimeout?: number;
  /** Pause between `advance()` calls that made no progress, ms (default 1000). */
  pollInterval?: number;
  /** Aborting it stops the delete (launcher shutdown); the node is unlocked for a later retry. */
  signal?: AbortSignal;
}

/** Outcome of a delete. */
export interface DeleteResult {
  /** True when the instance is gone and the znode removed. */
  deleted: boolean;
  /** Why the node was kept (it is unlocked; the engine retries later). */
  error?: Error;
}

/**
 * Deletes one node. On success the znode is gone (its lock with it); on failure the record stays
 * in `deleting` and the lock is released, so the deleted-node worker picks it up again.
 */
export class NodeDeleter {
  private readonly log: Logger;
  /** Context of the delete span: a child span per state of the delete machine. */
  private spanContext: Context | undefined;

  constructor(private readonly options: NodeDeleterOptions) {
    this.log = options.logger.child({ node: options.node.id, provider: options.provider.name });
  }

  /** Runs the delete; never rejects. */
  async run(): Promise<DeleteResult> {
    const { zk, node, provider, tracer } = this.options;
    const span = tracer?.startSpan('nodepool.delete', { attributes: { 'nodepool.node': node.id ?? '', 'nodepool.provider': provider.name } });
    this.spanContext = span ? trace.setSpan(otelContext.active(), span) : undefined;
    try {
      node.state = 'deleting';
      await zk.storeNode(node);
      await this.deleteInstance();
      await zk.deleteNode(node);
      // The lock znode went with the node; this only forgets our handle on it.
      await zk.unlockNode(node).catch(() => undefined);
      this.log.info('node deleted', { external_id: node.external_id });
      try {
        await provider.nodeDeleted?.(node);
      } catch (err) {
        this.log.warn('provider nodeDeleted hook failed', { err: (err as Error).message });
      }
      span?.setAttribute('nodepool.delete.deleted', true);
      return { deleted: true };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!(error instanceof StateMachineCancelledError)) this.log.error('node delete failed; will retry', { err: error.message });
      span?.recordException(error);
      await zk.unlockNode(node).catch((unlockErr: unknown) => this.log.warn('unlock failed', { err: (unlockErr as Error).message }));
      return { deleted: false, error };
    } finally {
      span?.end();
    }
  }

  private async deleteInstance(): Promise<void> {
    const { node, provider } = this.options;
    // A launch that failed before the cloud gave an id left nothing to delete.
    if (node.external_id === null || node.external_id === undefined || !provider.getDeleteStateMachine) return;
    let step: Span | undefined;
    let lastState: unknown;
    const startStep = (state: unknown): void => {
      step?.end();
      lastState = state;
      step = this.spanContext && this.options.tracer?.startSpan('nodepool.delete.step', { attributes: { 'nodepool.node': node.id ?? '', 'nodepool.step': String(state) } }, this.spanContext);
    };
    try {
      const machine = provider.getDeleteStateMachine(node.external_id, this.log);
      startStep(machine.state);
      await runStateMachine(machine, {
        timeoutMs: (this.options.deleteTimeout ?? 600) * 1000,
        pollMs: this.options.pollInterval,
        signal: this.options.signal,
        what: 'delete',
        onProgress: (m) => {
          if (m.state !== lastState) startStep(m.state);
        },
      });
    } catch (err) {
      // Already gone counts as deleted.
      if (err instanceof NotFoundError) {
        this.log.info('instance already gone', { external_id: node.external_id });
        return;
      }
      throw err;
    } finally {
      step?.end();
    }
  }
}
