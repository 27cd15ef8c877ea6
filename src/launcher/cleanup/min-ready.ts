/**
 * min-ready (spec §4.5, LCH:1187-1311; drivers-config §1.3; checklist §7.21): keep at least
 * `min-ready` READY, unallocated nodes of each label by submitting one-node requests of our own,
 * priority `900` so real work always goes first. Runs every main-loop pass.
 */
import type { Logger } from '../../plugins/logger';
import type { NodepoolConfig } from '../../plugins/nodepool-config';
import type { ZooKeeper } from '../../plugins/zookeeper';
import { NodeRequest } from '../../zk/models/node-request';
import { nodePath } from '../../zk/nodepool-paths';
import { BadVersionError } from '../../zk/zk-errors';
import { isolated } from './context';

/** The requestor of every min-ready request; Zuul and other tools recognise it. */
export const MIN_READY_REQUESTOR = 'NodePool:min-ready';
/** Priority prefix of min-ready requests (LCH:1275): after Zuul's 100/200/300. */
export const MIN_READY_PRIORITY = '900';

/** The part of the configuration min-ready reads. */
export type MinReadyConfig = Pick<NodepoolConfig, 'labels' | 'providers'>;

/** Options of {@link MinReady}. */
export interface MinReadyOptions {
  zk: ZooKeeper;
  logger: Logger;
  /**
   * Whether a request for `label` could be served at all (Nodepool's labelImageIsAvailable).
   * Default: some pool of our providers lists the label. Drivers with images can narrow it.
   */
  isLabelAvailable?: (label: string, config: MinReadyConfig) => boolean;
}

/** What one pass did. */
export interface MinReadyResult {
  /** Ids of requests submitted in this pass. */
  created: string[];
  /** Ids of finished own requests deleted in this pass. */
  removed: string[];
}

/** Default availability: the label is served by some pool of one of our providers. */
export function labelServedByOurPools(label: string, config: MinReadyConfig): boolean {
  for (const provider of config.providers.values()) {
    if (provider.pools.some((p) => p.labels.includes(label))) return true;
  }
  return false;
}

/**
 * min-ready with its per-instance record of its own outstanding requests (label → request ids).
 * Like Nodepool, each launcher process only knows the requests it submitted itself.
 */
export class MinReady {
  private readonly submitted = new Map<string, string[]>();

  constructor(private readonly options: MinReadyOptions) {}

  /** Own outstanding request ids by label (a copy). */
  get outstanding(): Map<string, string[]> {
    return new Map([...this.submitted].map(([label, ids]) => [label, [...ids]]));
  }

  /** One pass: drop finished own requests, then top up every label below its `min-ready`. */
  async run(config: MinReadyConfig): Promise<MinReadyResult> {
    const { zk, logger, isLabelAvailable = labelServedByOurPools } = this.options;
    const result: MinReadyResult = { created: [], removed: [] };
    await this.removeCompletedRequests(result);

    const wanted = [...config.labels.values()].filter((l) => l['min-ready'] > 0 && !this.submitted.has(l.name));
    if (wanted.length === 0) return result;
    const nodes = await zk.getNodes();
    for (const label of wanted) {
      await isolated(logger, 'min-ready', { label: label.name }, async () => {
        if (!isLabelAvailable(label.name, config)) return;
        // Any provider's nodes count: the goal is ready capacity for the label, whoever owns it.
        const ready = nodes.filter((n) => n.state === 'ready' && !n.allocated_to && n.type.includes(label.name)).length;
        const need = label['min-ready'] - ready;
        for (let i = 0; i < need; i++) {
          const id = await this.submit(label.name);
          result.created.push(id);
        }
        if (need > 0) logger.info(`min-ready: requested ${need} ${label.name} node(s)`, { label: label.name, ready });
      });
    }
    return result;
  }

  private async submit(label: string): Promise<string> {
    const req = new NodeRequest();
    req.state = 'requested';
    req.requestor = MIN_READY_REQUESTOR;
    req.node_types = [label];
    req.reuse = false; // force new launches: the point is to add ready nodes
    // Ephemeral (Nodepool's default for its own requests): if we die, the request goes with us
    // instead of leaving nodes allocated to a requestor that will never collect them.
    await this.options.zk.submitNodeRequest(req, MIN_READY_PRIORITY, { ephemeral: true });
    const id = req.id as string;
    const ids = this.submitted.get(label) ?? [];
    ids.push(id);
    this.submitted.set(label, ids);
    return id;
  }

  /**
   * Drops own requests that finished: a fulfilled one gives its nodes back to the ready pool
   * (allocated_to cleared) and is deleted; a failed one is deleted; a vanished one (ephemeral,
   * lost with a session, or deleted by someone) is forgotten. Each request is isolated; one whose
   * clean-up failed stays recorded and is retried next pass.
   */
  private async removeCompletedRequests(result: MinReadyResult): Promise<void> {
    const { zk, logger } = this.options;
    for (const [label, ids] of [...this.submitted]) {
      const active: string[] = [];
      for (const id of ids) {
        let keep = true;
        await isolated(logger.child({ request: id }), 'removing finished min-ready request', { request: id, label }, async () => {
          const req = await zk.getNodeRequest(id);
          if (!req) {
            keep = false;
            return;
          }
          if (req.state === 'fulfilled') {
            for (const nodeId of req.nodes) await this.deallocate(nodeId, id);
          } else if (req.state !== 'failed') {
            return;
          }
          await zk.deleteNodeRequest(id);
          keep = false;
          result.removed.push(id);
        });
        if (keep) active.push(id);
      }
      if (active.length) this.submitted.set(label, active);
      else this.submitted.delete(label);
    }
  }

  /**
   * Clears `allocated_to` of a node of our fulfilled request WITHOUT locking it — this is what
   * Nodepool does (LCH:1212-1224) and the one node write allowed without the lock (§7.17). To
   * avoid clobbering a concurrent locked writer the write is version-checked and retried on a
   * fresh read; a node no longer allocated to this request is left alone.
   */
  private async deallocate(nodeId: string, requestId: string): Promise<void> {
    const { zk } = this.options;
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await zk.getNode(nodeId);
      if (!node || node.allocated_to !== requestId) return;
      node.allocated_to = null;
      try {
        await zk.client.set(nodePath(nodeId), node.serialize(), node.version);
        return;
      } catch (err) {
        if (!(err instanceof BadVersionError)) throw err;
      }
    }
    throw new Error(`node ${nodeId} kept changing while clearing its allocation to ${requestId}`);
  }
}
