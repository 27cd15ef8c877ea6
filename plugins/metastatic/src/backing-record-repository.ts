/**
 * The one place that knows how backing nodes are recorded in ZooKeeper (spec drivers-config
 * §3.2-3.4, zk-protocol §3.4): the backing request, the persistent kazoo lock whose contender
 * data is the owner id, the `user_data` string, `in-use` while held and `used` on release, and
 * the slot claims in our own nodes' `driver_data`. Everything else works on in-memory records.
 */
import { Node, NodeRequest, NoNodeError, type Logger, type ZooKeeper, type ZooKeeperLock } from '@nodepool-ts/sdk';
import {
  formatBackingUserData, parseBackingUserData, parseDriverData, type BackingUserData, type MetastaticDriverData,
} from './backing-node-data';

/** Priority prefix of backing requests (`adapter.py`: `storeNodeRequest(req, priority="100")`). */
export const BACKING_REQUEST_PRIORITY = '100';
/** Seconds to wait for the lock of a freshly fulfilled backing node (`adapter.py:512`). */
const BACKING_LOCK_TIMEOUT = 30;
/** Age after which our lock on a backing node whose claim never finished is removed, ms. */
export const UNFINISHED_CLAIM_MS = 120_000;
/** kazoo's contender name test (zk-protocol §3.2 step 4); sequences compare as strings. */
const CONTENDER_RE = /(?:__lock__)(-?\d{10})$/;

/** Why a backing node can no longer be used; the record must be pruned (spec §3.8 item 1). */
export interface BackingMissing {
  missing: true;
  reason: 'gone' | 'not-in-use' | 'not-ours';
  detail: string;
}

/** A backing node that is still ours: exists, `in-use`, first lock contender = owner id. */
export interface BackingPresent {
  missing: false;
  node: Node;
  /** Path of our lock contender (the holder): it exists exactly as long as we hold the lock. */
  contender: string;
  /** Its parsed `user_data` (undefined when someone rewrote it; the lock still makes it ours). */
  data: BackingUserData | undefined;
}

/** What {@link BackingRecordRepository.get} found. */
export type BackingLookup = BackingPresent | BackingMissing;

/** A backing node found at recovery. */
export interface OwnedBackingNode {
  node: Node;
  data: BackingUserData;
}

/** One node of this provider claiming a slot of a backing node. */
export interface SlotOccupant {
  nodeId: string;
  slot: number | null;
  /** Done with and being deleted, for a few seconds now: its slot is about to be free. */
  leaving?: boolean;
}

/** States of a node whose slot frees once the deleted-node worker has removed it. */
const LEAVING = new Set(['used', 'deleting', 'failed', 'aborted']);
/** How long a leaving node is expected to be gone within, s. */
const LEAVING_SECONDS = 10;

/** Outcome of claiming a fulfilled backing request. */
export type ClaimOutcome =
  | { outcome: 'claimed'; node: Node }
  | { outcome: 'pending' }
  | { outcome: 'failed' | 'vanished'; detail: string };

/** Backing-node records in ZooKeeper; see the module comment. */
export class BackingRecordRepository {
  private readonly ownProvider: ReadonlySet<string>;

  constructor(
    private readonly zk: ZooKeeper,
    /** `NodePool:metastatic:<provider>`. */
    readonly ownerId: string,
    private readonly providerName: string,
    private readonly log: Logger,
  ) {
    this.ownProvider = new Set([providerName]);
  }

  /**
   * The backing node if it is still ours, else a typed "missing" signal: the znode is gone, it is
   * no longer `in-use` (released by another launcher, deleted, held), or the first contender of
   * its lock is not our owner id.
   */
  async get(backingNodeId: string): Promise<BackingLookup> {
    const node = await this.zk.getNode(backingNodeId);
    if (!node) return { missing: true, reason: 'gone', detail: `backing node ${backingNodeId} no longer exists` };
    if (node.state !== 'in-use') {
      return { missing: true, reason: 'not-in-use', detail: `backing node ${backingNodeId} is ${node.state}` };
    }
    const holder = await this.firstContender(backingNodeId);
    if (holder?.data !== this.ownerId) {
      return { missing: true, reason: 'not-ours', detail: `backing node ${backingNodeId} is not locked by ${this.ownerId}` };
    }
    return { missing: false, node, contender: holder.path, data: parseBackingUserData(node.user_data, this.ownerId) };
  }

  /**
   * Removes our locks left by claims that never finished, and returns the backing nodes let go.
   * A launcher killed inside {@link claim}, between taking the persistent lock and writing
   * `user_data`, leaves a backing node locked by our owner id and allocated to a request that
   * vanished with its session. Nobody adopts that node (its `user_data` is not ours), and its
   * provider never de-allocates it (it is locked): the backing node would be lost for good. Once
   * our lock on such a node is `olderThanMs` old and its request is really gone, the lock is
   * removed, and the provider de-allocates the node as for any vanished request. A claim holds
   * the lock for a moment only, after at most 30 s of waiting for it.
   */
  async releaseUnfinishedClaims(olderThanMs = UNFINISHED_CLAIM_MS, now = Date.now()): Promise<string[]> {
    const requests = new Set(await this.zk.getNodeRequestIds());
    // Still `ready`: the claim writes `in-use` together with `user_data`. A claimed node keeps
    // pointing at its deleted request too, and one whose `user_data` somebody rewrote must keep
    // our lock (unlocked, `in-use` would be deleted under its jobs).
    const candidates = await this.zk.getNodes((n) =>
      n.provider !== this.providerName && n.state === 'ready' && !!n.allocated_to && !requests.has(n.allocated_to)
      && parseBackingUserData(n.user_data, this.ownerId) === undefined);
    const released: string[] = [];
    for (const node of candidates) {
      const id = node.id as string;
      const holder = await this.firstContender(id);
      if (holder?.data !== this.ownerId || now - holder.ctime < olderThanMs) continue;
      // The cache may not have seen the request yet: ask ZooKeeper.
      if (await this.zk.client.exists(`/nodepool/requests/${node.allocated_to}`)) continue;
      try {
        await this.zk.client.delete(holder.path);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
      released.push(id);
      this.log.warn('removed our lock from a backing node whose claim never finished (its launcher died while claiming it)', { backing_node: id, request: node.allocated_to });
    }
    return released;
  }

  /**
   * Data of the lowest lock contender (kazoo's holder), read without kazoo's `ensure_path`: that
   * would re-create a node znode deleted meanwhile (as an empty znode, zk-protocol §3.3), and
   * backing nodes are deleted by their provider while we look at them.
   */
  private async firstContender(nodeId: string): Promise<{ path: string; data: string; ctime: number } | undefined> {
    const dir = `/nodepool/nodes/${nodeId}/lock`;
    try {
      const contenders = (await this.zk.client.getChildren(dir))
        .map((name) => ({ name, seq: CONTENDER_RE.exec(name)?.[1] }))
        .filter((c): c is { name: string; seq: string } => c.seq !== undefined)
        .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
      if (contenders.length === 0) return undefined;
      const path = `${dir}/${contenders[0].name}`;
      const { data, stat } = await this.zk.client.get(path);
      return { path, data: data ? data.toString('utf8') : '', ctime: stat.ctime };
    } catch (err) {
      // The node, its lock dir or the contender vanished: nobody holds it.
      if (err instanceof NoNodeError) return undefined;
      throw err;
    }
  }

  /** The znode of a (backing) node, for a transaction's checks. */
  nodePath(nodeId: string): string {
    return `/nodepool/nodes/${nodeId}`;
  }

  /** Files a backing request (ephemeral, like every Nodepool-made request); returns its id. */
  async submitRequest(backingLabel: string): Promise<string> {
    const request = new NodeRequest();
    request.node_types = [backingLabel];
    request.requestor = this.ownerId;
    await this.zk.submitNodeRequest(request, BACKING_REQUEST_PRIORITY);
    return request.id as string;
  }

  /**
   * Takes over the node of a fulfilled backing request (`adapter.py:483-519`): lock it
   * persistently with our owner id, write `user_data`, set `in-use`, delete the request.
   * `pending` while the request is not decided yet.
   */
  async claim(requestId: string, data: Omit<BackingUserData, 'owner' | 'failed'>): Promise<ClaimOutcome> {
    const request = await this.zk.getNodeRequest(requestId);
    if (!request) return { outcome: 'vanished', detail: `backing request ${requestId} vanished` };
    if (request.state === 'failed') {
      await this.zk.deleteNodeRequest(requestId);
      return { outcome: 'failed', detail: `backing request ${requestId} failed` };
    }
    if (request.state !== 'fulfilled') return { outcome: 'pending' };
    const nodeId = request.nodes[0];
    const node = nodeId ? await this.zk.getNode(nodeId) : undefined;
    if (!node) {
      await this.zk.deleteNodeRequest(requestId);
      return { outcome: 'failed', detail: `backing node ${nodeId} of request ${requestId} vanished` };
    }
    const lock = await this.zk
      .lockNode(node, { blocking: true, timeout: BACKING_LOCK_TIMEOUT, ephemeral: false, identifier: this.ownerId })
      .catch((err: unknown) => {
        // Deleted while we waited for its lock (lockNode then releases our contender again).
        if (err instanceof NoNodeError) return null;
        throw err;
      });
    if (lock === null) {
      await this.zk.deleteNodeRequest(requestId);
      return { outcome: 'failed', detail: `backing node ${nodeId} of request ${requestId} vanished while locking it` };
    }
    if (!lock) throw new Error(`could not lock backing node ${nodeId} within ${BACKING_LOCK_TIMEOUT} s`);
    node.user_data = formatBackingUserData({ owner: this.ownerId, failed: false, ...data });
    node.state = 'in-use';
    await this.zk.storeNode(node);
    await this.zk.deleteNodeRequest(requestId);
    this.log.info('claimed backing node', { backing_node: node.id, request: requestId, label: data.label });
    return { outcome: 'claimed', node };
  }

  /** Stores a node read moments ago; false when it was deleted meanwhile (set never creates). */
  private async storeIfExists(node: Node): Promise<boolean> {
    try {
      await this.zk.storeNode(node);
      return true;
    } catch (err) {
      if (err instanceof NoNodeError) return false;
      throw err;
    }
  }

  /** Drops a backing request we no longer wait for (a missing one is fine). */
  async deleteRequest(requestId: string): Promise<void> {
    await this.zk.deleteNodeRequest(requestId);
  }

  /**
   * Persists `failed` in the backing node's `user_data` (nodescan failure, 21f1b88b7). A backing
   * node that is no longer ours is left alone and reported as missing (spec §3.8 item 2).
   */
  async markFailed(backingNodeId: string): Promise<BackingLookup> {
    const found = await this.get(backingNodeId);
    if (found.missing || !found.data) return found;
    found.node.user_data = formatBackingUserData({ ...found.data, failed: true });
    if (!(await this.storeIfExists(found.node))) return { missing: true, reason: 'gone', detail: `backing node ${backingNodeId} vanished` };
    return found;
  }

  /**
   * Gives a backing node back (`adapter.py:328-335`): state `used`, then remove our persistent
   * lock (the lowest contender only, 4c00f6a72). A node that is no longer ours is not touched.
   */
  async release(backingNodeId: string): Promise<BackingLookup> {
    const found = await this.get(backingNodeId);
    if (found.missing) return found;
    found.node.state = 'used';
    if (!(await this.storeIfExists(found.node))) return { missing: true, reason: 'gone', detail: `backing node ${backingNodeId} vanished` };
    await this.zk.forceUnlockNode(backingNodeId);
    this.log.info('released backing node', { backing_node: backingNodeId });
    return found;
  }

  /**
   * Backing nodes of this owner (`adapter.py:378-403`): `user_data` is ours and the first lock
   * contender is our owner id.
   */
  async listOwned(): Promise<OwnedBackingNode[]> {
    const owned: OwnedBackingNode[] = [];
    for (const node of await this.zk.getNodes()) {
      const data = parseBackingUserData(node.user_data, this.ownerId);
      if (!data || !node.id || node.state === 'deleted') continue;
      if ((await this.firstContender(node.id))?.data === this.ownerId) owned.push({ node, data });
    }
    return owned;
  }

  /**
   * Slot occupants per backing node, counted from ZooKeeper (spec §3.8 item 4): nodes of this
   * provider, in any state but `deleted`, whose `driver_data.backing_node` names it.
   */
  async occupants(): Promise<Map<string, SlotOccupant[]>> {
    const byBacking = new Map<string, SlotOccupant[]>();
    // A node Zuul returned a moment ago (its `used` still being read) is seen leaving.
    await this.zk.nodesCaughtUp?.();
    const now = Date.now() / 1000;
    // Only ours: other providers' nodes (the backing nodes among them) are neither copied out of
    // the cache nor read first when their last change was left unread (NodeQuery.providers).
    for (const node of await this.zk.getNodes(undefined, { providers: this.ownProvider })) {
      if (node.state === 'deleted' || !node.id) continue;
      const dd = parseDriverData(node.driver_data);
      if (!dd?.backing_node) continue;
      let list = byBacking.get(dd.backing_node);
      if (!list) byBacking.set(dd.backing_node, (list = []));
      list.push({ nodeId: node.id, slot: dd.slot ?? node.slot, leaving: LEAVING.has(node.state) && now - node.state_time < LEAVING_SECONDS });
    }
    return byBacking;
  }

  /** The backing node a node of ours sits on, from its `driver_data`. */
  async backingOf(nodeId: string): Promise<string | null> {
    const node = await this.zk.getNode(nodeId);
    return parseDriverData(node?.driver_data)?.backing_node ?? null;
  }

  /**
   * Persists a slot claim in our node's `driver_data` and `slot` while the allocation lock is
   * held, so any launcher recounting after us sees it. The node is locked by the launch that
   * runs this allocation; the launcher stores the same data again when the machine completes.
   */
  async writeClaim(nodeId: string, driverData: MetastaticDriverData): Promise<void> {
    const node = await this.zk.getNode(nodeId);
    if (!node) throw new NoNodeError(`/nodepool/nodes/${nodeId}`, 'node vanished while allocating a slot');
    node.driver_data = driverData;
    node.slot = driverData.slot;
    await this.zk.storeNode(node);
  }

  /**
   * Takes the provider-wide allocation lock (an ephemeral kazoo lock, so a dead launcher never
   * wedges it); undefined on timeout. See slot-allocator.ts for why it exists.
   */
  async lockAllocation(timeoutSec: number): Promise<ZooKeeperLock | undefined> {
    const lock = this.zk.createLock(`/nodepool/metastatic/${this.providerName}/allocation-lock`, this.ownerId);
    if (!(await lock.acquire({ blocking: true, timeout: timeoutSec }))) return undefined;
    // Occupants are counted from the node cache: it must first show the claims the previous
    // holder wrote (their events came before our lock's reply, their reads maybe not yet).
    await this.zk.nodesCaughtUp?.();
    return lock;
  }
}
