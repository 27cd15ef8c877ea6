/**
 * Steady request load and the "nothing lost" bookkeeping of the fault tests (issue 8): a few
 * Zuul-style requestor loops keep requests outstanding, accept what is fulfilled, hold the nodes a
 * moment and return them `used`. Every submitted request is followed to its end; a request that
 * vanishes, or fails without a decline reason, is counted lost. A node handed to a requestor loop
 * while another loop still holds it is counted double-allocated. ZooKeeper trouble on the
 * requestor's own connection (a server restart) is retried, as Zuul does, and not counted.
 */
import type { Node } from '../../src/zk/models/node';
import type { NodepoolZk } from '../../src/zk/nodepool-zk';
import type { ZkClient } from '../../src/zk/zk-client';
import { sleep, waitUntil } from './engine-harness';
import type { ZuulRequestor } from './zuul-requestor';

/** What happened to the submitted requests. */
export interface LoadReport {
  submitted: number;
  fulfilled: number;
  /** Failed with our decline reasons in `declined_by` (allowed: a pool may be unable to serve). */
  failed: number;
  /** Vanished, never ended, or failed with an empty `declined_by`: must be zero. */
  lost: string[];
  /** Node ids handed out while already in use by another loop: must be zero. */
  doubleAllocated: string[];
  /** Fulfilled requests whose nodes could not be taken (allowed; the launcher reclaims them). */
  acceptErrors: number;
  /** Requests created by a submit whose reply was lost, found and followed at the end. */
  orphans: number;
  /** Every fulfilled request the loops submitted (orphans have no known submit time), in fulfilment order. */
  waits: RequestWait[];
}

/** One fulfilled request's timing, epoch ms. */
export interface RequestWait {
  id: string;
  submittedAt: number;
  /** When the requestor saw it `fulfilled` (polled every 100 ms, so up to 100 ms late). */
  fulfilledAt: number;
}

/** How long requests waited; see {@link waitFigures}. */
export interface WaitFigures {
  /** Longest submit → fulfilled, ms. */
  maxWaitMs: number;
  /** 95th percentile of submit → fulfilled, ms. */
  p95WaitMs: number;
  /** Longest submit → fulfilled of the requests submitted at or after `since`, ms. */
  maxWaitSinceMs: number;
  /** Longest time without any fulfilment between two fulfilments (the fleet stalled), ms. */
  longestStallMs: number;
  /** Fulfilled requests counted. */
  count: number;
}

/** The wait figures of a report; `since` (epoch ms, e.g. a fault) splits off the later requests. */
export function waitFigures(report: LoadReport, since = 0): WaitFigures {
  const waits = report.waits.map((w) => w.fulfilledAt - w.submittedAt).sort((a, b) => a - b);
  const after = report.waits.filter((w) => w.submittedAt >= since).map((w) => w.fulfilledAt - w.submittedAt);
  const done = report.waits.map((w) => w.fulfilledAt).sort((a, b) => a - b);
  let longestStallMs = 0;
  for (let i = 1; i < done.length; i++) longestStallMs = Math.max(longestStallMs, done[i] - done[i - 1]);
  return {
    maxWaitMs: waits.length > 0 ? waits[waits.length - 1] : 0,
    p95WaitMs: waits.length > 0 ? waits[Math.min(waits.length - 1, Math.ceil(waits.length * 0.95) - 1)] : 0,
    maxWaitSinceMs: after.length > 0 ? Math.max(...after) : 0,
    longestStallMs,
    count: waits.length,
  };
}

/** How a {@link RequestLoad} runs. */
export interface LoadOptions {
  /** Label sets to request, used round-robin. */
  labels: string[][];
  /** Requestor loops running at once. */
  loops: number;
  /** How long a loop keeps its nodes, ms. */
  holdMs?: number;
  /** How long one request may take to end, ms (generous: a fault may stall everything). */
  requestTimeoutMs?: number;
  /**
   * What may not be in use twice at once besides the node id (static: host and slot, since two
   * records for one slot would hand one host slot to two jobs; metastatic: backing node and slot).
   */
  resourceKey?: (node: Node) => string | string[];
}

/** See the module comment. */
export class RequestLoad {
  private readonly report: LoadReport = { submitted: 0, fulfilled: 0, failed: 0, lost: [], doubleAllocated: [], acceptErrors: 0, orphans: 0, waits: [] };
  private readonly inUse = new Set<string>();
  private readonly known = new Set<string>();
  /** Requests of other requestors seen at the end. */
  private readonly foreign = new Set<string>();
  private running: Promise<void>[] = [];
  private stopping = false;
  private turn = 0;

  constructor(private readonly zuul: ZuulRequestor, private readonly zk: NodepoolZk, private readonly options: LoadOptions) {}

  start(): void {
    for (let i = 0; i < this.options.loops; i++) this.running.push(this.loop());
  }

  /** Waits until at least `n` requests were fulfilled since the start. */
  async waitFulfilled(n: number, timeoutMs = 60_000): Promise<void> {
    await waitUntil(`${n} fulfilled requests`, async () => this.report.fulfilled >= n, timeoutMs);
  }

  get fulfilled(): number {
    return this.report.fulfilled;
  }

  /** Lets every loop finish its request in hand, then reports. */
  async stop(): Promise<LoadReport> {
    this.stopping = true;
    await Promise.all(this.running);
    // A submit whose reply was lost (ZooKeeper restarting) may still have created its request,
    // as it can for Zuul: follow those too, so they are served and counted, not left behind.
    for (;;) {
      const ids = await this.zk.getNodeRequestIds().catch(() => undefined);
      if (!ids) {
        await sleep(200);
        continue;
      }
      const orphans: string[] = [];
      let unread = false;
      for (const id of ids.filter((i) => !this.known.has(i) && !this.foreign.has(i) && !i.startsWith('900-'))) {
        // Not ours to follow: a metastatic provider's backing requests, for one.
        const req = await this.zk.getNodeRequest(id).catch(() => 'retry' as const);
        if (req === 'retry') unread = true;
        else if (req && req.requestor === this.zuul.requestor) orphans.push(id);
        else if (req) this.foreign.add(id);
      }
      if (unread) {
        await sleep(200);
        continue;
      }
      if (orphans.length === 0) break;
      for (const id of orphans) {
        this.known.add(id);
        this.report.submitted++;
        this.report.orphans++;
        await this.follow(id);
      }
    }
    return this.report;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const labels = this.options.labels[this.turn++ % this.options.labels.length];
      const submittedAt = Date.now();
      const id = await this.retry(() => this.zuul.submit({ labels }).then((s) => s.id));
      if (!id) return;
      this.known.add(id);
      this.report.submitted++;
      await this.follow(id, submittedAt);
    }
  }

  /** Follows one request to its end and uses its nodes; `submittedAt` known: its wait is recorded. */
  private async follow(id: string, submittedAt?: number): Promise<void> {
    const deadline = Date.now() + (this.options.requestTimeoutMs ?? 120_000);
    for (;;) {
      const req = await this.zk.getNodeRequest(id).catch(() => 'retry' as const);
      if (req === 'retry') {
        await sleep(200);
        continue;
      }
      if (!req) {
        this.report.lost.push(`${id}: vanished`);
        return;
      }
      if (req.state === 'failed') {
        if (req.declined_by.length === 0) this.report.lost.push(`${id}: failed without a decline`);
        else this.report.failed++;
        await this.retry(() => this.zk.deleteNodeRequest(id).then(() => true));
        return;
      }
      if (req.state === 'fulfilled') {
        this.report.fulfilled++;
        if (submittedAt !== undefined) this.report.waits.push({ id, submittedAt, fulfilledAt: Date.now() });
        await this.use(req);
        return;
      }
      if (Date.now() > deadline) {
        this.report.lost.push(`${id}: still ${req.state} after ${this.options.requestTimeoutMs ?? 120_000} ms`);
        await this.zuul.cancel(id).catch(() => false);
        return;
      }
      await sleep(100);
    }
  }

  private async use(req: Parameters<ZuulRequestor['accept']>[0]): Promise<void> {
    let set;
    try {
      set = await this.zuul.accept(req);
    } catch {
      // Zuul gives up on such a request too and deletes it (accept tries that as well, but the
      // delete may have failed with the connection); the launcher then de-allocates its nodes.
      this.report.acceptErrors++;
      await this.retry(() => this.zk.deleteNodeRequest(req.id as string).then(() => true));
      return;
    }
    const key = this.options.resourceKey;
    const ids = [...set.nodeIds, ...(key ? set.nodes.flatMap((n) => [key(n)].flat().map((k) => `resource ${k}`)) : [])];
    for (const nodeId of ids) {
      if (this.inUse.has(nodeId)) this.report.doubleAllocated.push(`${nodeId} (request ${req.id})`);
    }
    for (const nodeId of ids) this.inUse.add(nodeId);
    await sleep(this.options.holdMs ?? 200);
    for (const nodeId of ids) this.inUse.delete(nodeId);
    // Return the nodes; release unlocks them even when storing `used` fails, and the launcher
    // deletes the `in-use` nodes once they are unlocked.
    await this.zuul.release(set).catch(() => undefined);
  }

  /** Runs `fn` until it succeeds (connection trouble on the requestor's side), or stop. */
  private async retry<T>(fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt > 300) throw err;
        await sleep(200);
      }
    }
  }
}

/** What a settled system may still contain. */
export interface SettledExpectation {
  /** Nodes allowed to remain: ready and unallocated (static hosts, min-ready). */
  readyNodes: number;
  /** Cloud instance ids visible in this process (fake clouds of in-process launchers). */
  cloudInstances?: () => string[];
  timeoutMs?: number;
}

/** Lock children under every request-lock dir and node lock dir. */
export async function lockChildren(client: ZkClient): Promise<string[]> {
  const out: string[] = [];
  const dirs: string[] = [];
  if (await client.exists('/nodepool/requests-lock')) {
    for (const id of await client.getChildren('/nodepool/requests-lock')) dirs.push(`/nodepool/requests-lock/${id}`);
  }
  if (await client.exists('/nodepool/nodes')) {
    for (const id of await client.getChildren('/nodepool/nodes')) dirs.push(`/nodepool/nodes/${id}/lock`);
  }
  for (const dir of dirs) {
    const children = await client.getChildren(dir).catch(() => [] as string[]);
    for (const child of children) out.push(`${dir}/${child}`);
  }
  return out;
}

/**
 * Waits until the system has settled after the load stopped and checks "no leak": no request
 * left, exactly `readyNodes` nodes and all of them ready and unallocated, no lock child anywhere,
 * every visible cloud instance backed by a node. Throws with the leftovers on time-out.
 */
export async function expectSettled(client: ZkClient, zk: NodepoolZk, expect: SettledExpectation): Promise<void> {
  let last = '';
  try {
    await waitUntil('a settled system', async () => {
      const requests = await zk.getNodeRequests();
      const nodes = await zk.getNodes();
      const locks = await lockChildren(client);
      const externalIds = new Set(nodes.map((n) => String(n.external_id)));
      const leakedInstances = (expect.cloudInstances?.() ?? []).filter((id) => !externalIds.has(id));
      const badNodes = nodes.filter((n) => n.state !== 'ready' || n.allocated_to);
      last = JSON.stringify({
        requests: requests.map((r) => `${r.id}:${r.state}`),
        nodes: nodes.length,
        badNodes: badNodes.map((n) => `${n.id}:${n.state}:${n.allocated_to ?? ''}`),
        locks,
        leakedInstances,
      });
      return requests.length === 0 && nodes.length === expect.readyNodes && badNodes.length === 0 && locks.length === 0 && leakedInstances.length === 0;
    }, expect.timeoutMs ?? 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${last}`);
  }
}
