/**
 * A Zuul-like load for mixed fleets (Python and nodepool-ts launchers on one provider) that
 * counts what the coexistence rules promise, from the side that would suffer: the jobs.
 *
 * - {@link JobLoad}: `workers` jobs outstanding at all times, each submit → fulfilled → accept
 *   (lock, `in-use`) → hold → return `used`. While a job holds its nodes, each node's host keys
 *   ({@link HoldKey}) are counted; a key held more often at once than its limit is a double
 *   hand-out (a host to two jobs, or a backing node beyond `max-parallel-jobs`).
 * - {@link RecordMonitor}: polls ZooKeeper and keeps the highest number of live records per
 *   static host slot seen (two `ready` records of one slot are how a host reaches two jobs).
 */
import type { Node } from '../../src/zk/models/node';
import type { NodepoolZk } from '../../src/zk/nodepool-zk';
import type { NodeSet, ZuulRequestor } from './zuul-requestor';

/** One thing a job holds through a node, and how many jobs may hold it at once. */
export interface HoldKey {
  key: string;
  limit: number;
}

/** Static hosts (one slot each unless told) and metastatic backing nodes and their slots. */
export function defaultHoldKeys(node: Node, staticSlotsPerHost = 1, backingSlots = 1): HoldKey[] {
  const data = node.driver_data as { backing_node?: unknown; slot?: unknown } | null;
  if (data && typeof data === 'object' && data.backing_node) {
    return [
      { key: `backing ${String(data.backing_node)}`, limit: backingSlots },
      { key: `backing ${String(data.backing_node)} slot ${String(data.slot)}`, limit: 1 },
    ];
  }
  return [{ key: `host ${node.provider}/${node.hostname ?? node.interface_ip}`, limit: staticSlotsPerHost }];
}

/** Options of {@link JobLoad}. */
export interface JobLoadOptions {
  zuul: ZuulRequestor;
  labels: string[];
  /** Jobs outstanding at once. */
  workers: number;
  /** How long each job keeps its nodes, ms: uniformly in [min, max]. */
  holdMs: [number, number];
  /** Time limit per request to be fulfilled (default 120 s): longer counts as lost. */
  requestTimeoutMs?: number;
  holdKeys?: (node: Node) => HoldKey[];
}

/** What a {@link JobLoad} counted. */
export interface JobLoadResult {
  submitted: number;
  fulfilled: number;
  /** Requests that ended `failed`. */
  failed: number;
  /** Requests not fulfilled within the time limit, or whose nodes could not be accepted. */
  lost: number;
  /** Times a job got a host key already held up to its limit. */
  doubleHolds: number;
  /** Descriptions of the double holds (first 20). */
  doubleHoldDetails: string[];
  /** Highest count of jobs holding one key at once, by key kind (`host`, `backing`, ...). */
  maxHeld: Record<string, number>;
  /** Submit → fulfilled, ms, per fulfilled request. */
  waits: number[];
  errors: string[];
  elapsedMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** See the module comment. */
export class JobLoad {
  private stopping = false;
  private readonly held = new Map<string, number>();
  private readonly result: JobLoadResult = {
    submitted: 0, fulfilled: 0, failed: 0, lost: 0, doubleHolds: 0, doubleHoldDetails: [], maxHeld: {}, waits: [], errors: [], elapsedMs: 0,
  };
  private running: Promise<void>[] = [];
  private started = 0;

  constructor(private readonly options: JobLoadOptions) {}

  /** Starts the workers. */
  start(): void {
    this.started = Date.now();
    this.running = Array.from({ length: this.options.workers }, () => this.worker());
  }

  /** Stops submitting, waits for the jobs in flight, returns the counts. */
  async stop(): Promise<JobLoadResult> {
    this.stopping = true;
    await Promise.all(this.running);
    this.result.elapsedMs = Date.now() - this.started;
    return this.result;
  }

  /** The counts so far (live view). */
  get counts(): Readonly<JobLoadResult> {
    return this.result;
  }

  private async worker(): Promise<void> {
    const { zuul, labels, holdMs } = this.options;
    while (!this.stopping) {
      const sub = await zuul.submit({ labels });
      this.result.submitted++;
      let request;
      try {
        request = await zuul.waitFor(sub.id, ['fulfilled', 'failed'], this.options.requestTimeoutMs ?? 120_000);
      } catch (err) {
        this.result.lost++;
        this.note(`request ${sub.id}: ${(err as Error).message}`);
        await zuul.cancel(sub.id).catch(() => false);
        continue;
      }
      if (request.state === 'failed') {
        this.result.failed++;
        this.note(`request ${sub.id} failed; declined_by ${JSON.stringify(request.declined_by)}`);
        await zuul.cancel(sub.id).catch(() => false);
        continue;
      }
      this.result.waits.push(Date.now() - sub.submittedAt);
      let nodeSet: NodeSet;
      try {
        nodeSet = await zuul.accept(request);
      } catch (err) {
        this.result.lost++;
        this.note((err as Error).message);
        continue;
      }
      this.result.fulfilled++;
      const keys = nodeSet.nodes.flatMap((n) => (this.options.holdKeys ?? defaultHoldKeys)(n).map((k) => ({ ...k, node: n.id })));
      for (const k of keys) this.take(k.key, k.limit, `node ${k.node} of ${sub.id}`);
      await sleep(holdMs[0] + Math.random() * (holdMs[1] - holdMs[0]));
      for (const k of keys) this.held.set(k.key, (this.held.get(k.key) ?? 1) - 1);
      await zuul.release(nodeSet).catch((err: unknown) => this.note(`release of ${sub.id}: ${(err as Error).message}`));
    }
  }

  private take(key: string, limit: number, what: string): void {
    const now = (this.held.get(key) ?? 0) + 1;
    this.held.set(key, now);
    const kind = key.includes(' slot ') ? 'backing slot' : key.split(' ')[0];
    this.result.maxHeld[kind] = Math.max(this.result.maxHeld[kind] ?? 0, now);
    if (now > limit) {
      this.result.doubleHolds++;
      if (this.result.doubleHoldDetails.length < 20) this.result.doubleHoldDetails.push(`${key} held ${now}× (limit ${limit}): ${what}`);
    }
  }

  private note(error: string): void {
    if (this.result.errors.length < 50) this.result.errors.push(error);
  }
}

/** See the module comment. */
export class RecordMonitor {
  /** Highest number of live records of one host slot seen. */
  maxRecordsPerSlot = 0;
  /** Slots seen with more than one live record (first 20). */
  readonly duplicates: string[] = [];
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly zk: NodepoolZk,
    private readonly provider: string,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(10);
    await this.sample();
  }

  /** One look at ZooKeeper (fresh reads, not a cache). */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const ids = await this.zk.client.getChildren('/nodepool/nodes').catch(() => [] as string[]);
      const nodes = await Promise.all(ids.map((id) => this.zk.getNode(id).catch(() => undefined)));
      const perSlot = new Map<string, string[]>();
      for (const n of nodes) {
        // `deleting`/`deleted` records hold no slot (spec drivers-config §2.4).
        if (!n || n.provider !== this.provider || n.state === 'deleting' || n.state === 'deleted') continue;
        const key = `${n.hostname}#${n.slot}`;
        perSlot.set(key, [...(perSlot.get(key) ?? []), `${n.id}:${n.state}`]);
      }
      for (const [slot, records] of perSlot) {
        this.maxRecordsPerSlot = Math.max(this.maxRecordsPerSlot, records.length);
        if (records.length > 1 && this.duplicates.length < 20) this.duplicates.push(`${slot}: ${records.join(', ')}`);
      }
      this.samples++;
    } finally {
      this.busy = false;
    }
  }
}
