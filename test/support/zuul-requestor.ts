/**
 * A stand-in for Zuul's Nodepool client (upstream `zuul/zk/nodepool.py` + `zuul/nodepool.py`,
 * spec §2.2, §4.4 end) so integration tests and benchmarks can drive a launcher the way a real
 * scheduler does: submit a persistent request, wait for it, lock the nodes, delete the request,
 * mark the nodes in-use, and later return them `used` (or `hold`) and unlock.
 */
import { randomUUID } from 'node:crypto';
import type { ZooKeeper, ZooKeeperLock } from '../../src/plugins/zookeeper';
import type { Node } from '../../src/zk/models/node';
import { NodeRequest, type RequestState } from '../../src/zk/models/node-request';
import { requestPath } from '../../src/zk/nodepool-paths';
import { NoNodeError } from '../../src/zk/zk-errors';

/** Options of a {@link ZuulRequestor}. */
export interface ZuulRequestorOptions {
  /** Zuul's system id: the request's `requestor` and the nodes' `user_data.zuul_system`. */
  requestor?: string;
  /** Default tenant of submitted requests (`tenant_name` and `requestor_data.tenant_name`). */
  tenant?: string | null;
  /** Seconds to wait for each node lock in {@link ZuulRequestor.accept} (Zuul waits 30). */
  lockTimeoutSec?: number;
  /** Fallback re-read period of {@link ZuulRequestor.waitFor} in case a watch is lost (ms). */
  pollMs?: number;
}

/** What to request; mirrors Zuul's `requestNodes` arguments. */
export interface SubmitOptions {
  /** Node labels, in nodeset order (duplicates allowed). */
  labels: string[];
  /** Pipeline priority; zero-padded to 3 digits like Zuul's `'{:0>3}'` (default `'200'`). */
  priority?: string | number;
  relativePriority?: number;
  reuse?: boolean;
  /** Preferred provider, or null. */
  provider?: string | null;
  /** Tenant; defaults to the requestor's tenant. */
  tenant?: string | null;
  /** Replaces the default `{build_set_uuid, tenant_name, pipeline_name, job_uuid, job_name, span_info}`. */
  requestorData?: unknown;
  /** Defaults to a fresh `uuid4().hex`. */
  eventId?: string;
}

/** A submitted request. */
export interface SubmittedRequest {
  /** `<prio>-<seq10>`. */
  id: string;
  path: string;
  /** The request as written. */
  request: NodeRequest;
  /** `Date.now()` just before the create. */
  submittedAt: number;
}

/** Nodes accepted from a fulfilled request; locked until {@link ZuulRequestor.release}. */
export interface NodeSet {
  requestId: string;
  /** Index-aligned with the request's `node_types`. */
  nodeIds: string[];
  nodes: Node[];
  /** Our lock on each node, index-aligned with `nodes`. */
  locks: ZooKeeperLock[];
}

/** How to return a nodeset. */
export interface ReleaseOptions {
  /** `used` (default, Zuul's returnNodeSet) or `hold` (autohold). */
  state?: 'used' | 'hold';
  /** Hold reason (`comment`). */
  comment?: string;
  /** Autohold key `"<tenant> <project> <job> <ref_filter>"`. */
  holdJob?: string;
  /** Per-node hold duration in seconds. */
  holdExpiration?: number;
}

/** A whole job's node lifecycle; see {@link ZuulRequestor.runJob}. */
export interface RunJobOptions extends SubmitOptions {
  /** How long to wait for fulfilment (default 60 s). */
  timeoutMs?: number;
  /** How long the "job" keeps the nodes in-use before returning them (default 0). */
  holdMs?: number;
  projectName?: string;
}

/** Timings and results of {@link ZuulRequestor.runJob}. */
export interface JobResult {
  requestId: string;
  nodeIds: string[];
  /** Submit → fulfilled seen (local clock). */
  fulfilledMs: number;
  /** Lock + delete request + in-use. */
  acceptMs: number;
  /** Submit → nodes returned. */
  totalMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Zuul's side of the Nodepool protocol over the SDK {@link ZooKeeper}; see the module comment. */
export class ZuulRequestor {
  readonly requestor: string;
  readonly tenant: string | null;
  private readonly lockTimeoutSec: number;
  private readonly pollMs: number;

  constructor(
    private readonly zk: ZooKeeper,
    options: ZuulRequestorOptions = {},
  ) {
    this.requestor = options.requestor ?? 'zuul-test';
    this.tenant = options.tenant === undefined ? 'tenant-one' : options.tenant;
    this.lockTimeoutSec = options.lockTimeoutSec ?? 10;
    this.pollMs = options.pollMs ?? 2000;
  }

  /**
   * Zuul's `submitNodeRequest`: a PERSISTENT sequential `/nodepool/requests/<prio>-` with all 13
   * keys (spec §2.2), `created_time` stamped just before the create.
   */
  async submit(options: SubmitOptions): Promise<SubmittedRequest> {
    const tenant = options.tenant === undefined ? this.tenant : options.tenant;
    const req = new NodeRequest(); // state 'requested', state_time = now (Zuul's constructor)
    req.node_types = [...options.labels];
    req.reuse = options.reuse ?? true;
    req.requestor = this.requestor;
    req.requestor_data = options.requestorData !== undefined ? options.requestorData : {
      build_set_uuid: hex(),
      tenant_name: tenant,
      pipeline_name: 'check',
      job_uuid: hex(),
      job_name: 'test-job',
      span_info: null,
    };
    req.provider = options.provider ?? null;
    req.relative_priority = options.relativePriority ?? 0;
    req.event_id = options.eventId ?? hex();
    req.tenant_name = tenant;
    const submittedAt = Date.now();
    req.created_time = submittedAt / 1000;
    // Recent Zuul creates requests persistent (the request must survive a scheduler restart);
    // the SDK call pads the priority exactly like '{:0>3}'.
    await this.zk.submitNodeRequest(req, options.priority ?? '200', { ephemeral: false });
    const id = req.id as string;
    return { id, path: requestPath(id), request: req, submittedAt };
  }

  /**
   * Resolves with the request once its state is one of `states`. Driven by data watches (one
   * stable watcher, which the client de-duplicates per path); a slow re-read covers a watch lost
   * with the session. Rejects when the request vanishes or `timeoutMs` passes.
   */
  waitFor(id: string, states: RequestState[] = ['fulfilled', 'failed'], timeoutMs = 60000): Promise<NodeRequest> {
    return this.zk.waitForNodeRequest(id, states, timeoutMs, this.pollMs);
  }

  /**
   * Zuul's `acceptNodes` + `lockNodes` + `useNodeSet`: for each node of a fulfilled request, read
   * it, check `allocated_to`, lock it (blocking, bounded) and check again; then delete the request
   * and set every node `in-use` with `user_data`, keeping the locks. Like Zuul, the request is
   * deleted even when locking fails (the launcher's cleanup then de-allocates the nodes). On any
   * failure (locking, deleting the request, storing `in-use`) the locks taken so far are
   * released and a descriptive error thrown.
   */
  async accept(request: NodeRequest, options: { projectName?: string } = {}): Promise<NodeSet> {
    const requestId = request.id as string;
    const nodes: Node[] = [];
    const locks: ZooKeeperLock[] = [];
    let failure: Error | undefined;
    if (request.state !== 'fulfilled') {
      failure = new Error(`request ${requestId} is ${request.state}, not fulfilled (declined_by: ${JSON.stringify(request.declined_by)})`);
    }
    for (const nodeId of failure ? [] : request.nodes) {
      try {
        const node = await this.zk.getNode(nodeId);
        if (!node) throw new Error(`node ${nodeId} of request ${requestId} does not exist`);
        checkAllocation(node, requestId, 'allocated to');
        const lock = await this.zk.lockNode(node, { blocking: true, timeout: this.lockTimeoutSec });
        if (!lock) throw new Error(`could not lock node ${nodeId} within ${this.lockTimeoutSec} s`);
        nodes.push(node);
        locks.push(lock);
        // lockNode re-read the node: the launcher may have re-allocated it while we waited.
        checkAllocation(node, requestId, 'was reallocated during locking to');
      } catch (err) {
        failure = err as Error;
        break;
      }
    }
    // Zuul unlocks what it got as soon as locking fails (emptied: nothing left to unlock below).
    if (failure) await this.unlockAll(nodes.splice(0));
    try {
      // "Regardless of whether locking (or even the request) succeeded, delete the request."
      await this.zk.deleteNodeRequest(requestId);
      if (failure) throw failure;
      await this.useNodeSet(nodes, options.projectName);
    } catch (err) {
      // Giving up on the node set, so our locks must go now: when our ZooKeeper session survives
      // the trouble (a connection blip, a server restart), they would otherwise stay held for as
      // long as it lives, and no launcher could de-allocate or delete these nodes. Unlocked, a
      // node left `ready` is de-allocated (its request is gone) and an `in-use` one deleted.
      await this.unlockAll(nodes);
      throw new Error(`accepting nodes of request ${requestId} failed: ${(err as Error).message}`);
    }
    return { requestId, nodeIds: [...request.nodes], nodes, locks };
  }

  /** Zuul's `useNodeSet`: every node `in-use` with `user_data`, still locked. */
  private async useNodeSet(nodes: readonly Node[], projectName = 'org/project'): Promise<void> {
    const userData = { zuul_system: this.requestor, project_name: projectName };
    for (const node of nodes) {
      node.state = 'in-use';
      node.user_data = userData;
      await this.zk.storeNode(node);
    }
  }

  /**
   * Zuul's `returnNodeSet` (state `used`, only nodes still `in-use`) or `holdNodeSet` (state
   * `hold` with the autohold fields); stores each node, then unlocks all of them.
   */
  async release(nodeSet: NodeSet, options: ReleaseOptions = {}): Promise<void> {
    const state = options.state ?? 'used';
    try {
      for (const node of nodeSet.nodes) {
        if (state === 'hold') {
          node.state = 'hold';
          node.hold_job = options.holdJob ?? `${this.tenant ?? ''} org/project test-job .*`;
          node.comment = options.comment ?? 'held by zuul-requestor';
          if (options.holdExpiration !== undefined) node.hold_expiration = options.holdExpiration;
        } else if (node.state === 'in-use') {
          node.state = 'used';
        } else {
          continue;
        }
        await this.zk.storeNode(node);
      }
    } finally {
      await this.unlockAll(nodeSet.nodes);
    }
  }

  /**
   * One job: submit → wait for fulfilled/failed → accept → (hold the nodes `holdMs`) → release
   * `used`. A failed request is deleted (as Zuul's acceptNodes does) and reported with its
   * `declined_by`; a request that times out is cancelled before the error is rethrown.
   */
  async runJob(options: RunJobOptions): Promise<JobResult> {
    const sub = await this.submit(options);
    let req: NodeRequest;
    try {
      req = await this.waitFor(sub.id, ['fulfilled', 'failed'], options.timeoutMs ?? 60000);
    } catch (err) {
      await this.cancel(sub.id).catch(() => false);
      throw err;
    }
    const fulfilledAt = Date.now();
    if (req.state === 'failed') {
      await this.zk.deleteNodeRequest(sub.id);
      throw new Error(`request ${sub.id} for ${JSON.stringify(req.node_types)} failed; declined_by: ${JSON.stringify(req.declined_by)}`);
    }
    const nodeSet = await this.accept(req, { projectName: options.projectName });
    const acceptedAt = Date.now();
    if (options.holdMs) await sleep(options.holdMs);
    await this.release(nodeSet, { state: 'used' });
    return {
      requestId: sub.id,
      nodeIds: nodeSet.nodeIds,
      fulfilledMs: fulfilledAt - sub.submittedAt,
      acceptMs: acceptedAt - fulfilledAt,
      totalMs: Date.now() - sub.submittedAt,
    };
  }

  /**
   * Zuul's `cancelRequest`: deletes the request znode without taking its lock (upstream does not
   * lock; a launcher working on it must notice the request vanished). False when already gone.
   */
  async cancel(id: string): Promise<boolean> {
    try {
      await this.zk.client.delete(requestPath(id));
      return true;
    } catch (err) {
      if (err instanceof NoNodeError) return false;
      throw err;
    }
  }

  /** Unlocks every node, continuing past errors like Zuul's `_unlockNodes`. */
  private async unlockAll(nodes: Node[]): Promise<void> {
    for (const node of nodes) await this.zk.unlockNode(node).catch(() => undefined);
  }
}

function checkAllocation(node: Node, requestId: string, verb: string): void {
  if (node.allocated_to !== requestId) {
    throw new Error(`node ${node.id} ${verb} ${JSON.stringify(node.allocated_to)}, not ${requestId}`);
  }
}

function hex(): string {
  return randomUUID().replace(/-/g, '');
}
