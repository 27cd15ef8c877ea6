/**
 * The web app's view of ZooKeeper: nodes (with lock state), requests and pool components, each
 * a {@link ZkChildrenCache}, and the builder's image tree ({@link ImageTreeCache}). Listings are
 * built from memory, never from ZooKeeper reads.
 */
import type { Logger } from '../plugins/logger';
import type { ZooKeeperClient } from '../plugins/zookeeper';
import type { ProviderConfig } from '../plugins/nodepool-config';
import { parseComponent, type ComponentRecord, type PoolComponentRecord } from '../zk/models/component';
import { Node } from '../zk/models/node';
import { NodeRequest } from '../zk/models/node-request';
import { NODE_ROOT, REQUEST_ROOT, componentPath } from '../zk/nodepool-paths';
import { dibImageListRows, imageListRows, imageStatusRows, labelRows, nodeRow, requestRow, type StatusRow } from '../status/index';
import { launcherRows, providerRows } from './fleet-rows';
import { ImageTreeCache } from './image-tree-cache';
import { NodeListRenderer } from './node-list-renderer';
import { ZkChildrenCache, type CachedChild } from './zk-children-cache';

/** What changed, for {@link StatusCache.onChange} listeners. */
export type StatusCacheKind = 'nodes' | 'requests' | 'pools' | 'launchers';

/** See the module comment. */
export class StatusCache {
  readonly nodes: ZkChildrenCache<Node>;
  readonly requests: ZkChildrenCache<NodeRequest>;
  readonly pools: ZkChildrenCache<PoolComponentRecord>;
  readonly launchers: ZkChildrenCache<ComponentRecord>;
  readonly images: ImageTreeCache;
  private readonly renderer = new NodeListRenderer();
  private readonly listeners = new Set<(kind: StatusCacheKind) => void>();

  constructor(client: ZooKeeperClient, logger: Logger) {
    const onChange = (kind: StatusCacheKind) => (): void => {
      for (const listener of this.listeners) listener(kind);
    };
    this.nodes = new ZkChildrenCache({
      client, logger, path: NODE_ROOT, trackLocks: true, onChange: onChange('nodes'),
      // An empty node znode is what a lock's ensure_path leaves for a deleted node: no node.
      parse: (id, data, path) => (data && data.length > 0 ? Node.parse(id, data, -1, path) : undefined),
    });
    this.requests = new ZkChildrenCache({
      client, logger, path: REQUEST_ROOT, onChange: onChange('requests'),
      parse: (id, data, path) => NodeRequest.parse(id, data, -1, path),
    });
    this.pools = new ZkChildrenCache({
      client, logger, path: componentPath('pool'), onChange: onChange('pools'),
      parse: (_name, data, path) => parseComponent(path, data) as PoolComponentRecord,
    });
    this.launchers = new ZkChildrenCache({
      client, logger, path: componentPath('launcher'), onChange: onChange('launchers'),
      parse: (_name, data, path) => parseComponent(path, data),
    });
    this.images = new ImageTreeCache(client, logger);
  }

  /** Loads all of them; resolves when each has a first complete copy. */
  async start(): Promise<void> {
    await Promise.all([this.nodes.start(), this.requests.start(), this.pools.start(), this.launchers.start(), this.images.start()]);
  }

  /** Drops the copies. */
  stop(): void {
    this.nodes.stop();
    this.requests.stop();
    this.pools.stop();
    this.launchers.stop();
    this.images.stop();
  }

  /** Calls `listener` after each change applied to the copy; returns the unsubscribe function. */
  onChange(listener: (kind: StatusCacheKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `/node-list` rows, by id; `nodeId` picks one (none when unknown). */
  nodeRows(nodeId?: string, nowSeconds: number = Date.now() / 1000): StatusRow[] {
    return this.nodeEntries(nodeId).map((c) => nodeRow(c.value, c.locked, nowSeconds));
  }

  /** The `/node-list` body, built by the memoising renderer. */
  nodeList(json: boolean, nodeId: string | undefined, fields: readonly string[] | undefined, nowSeconds: number = Date.now() / 1000): string {
    const nodes = this.nodeEntries(nodeId);
    return json ? this.renderer.json(nodes, nowSeconds) : this.renderer.text(nodes, nowSeconds, fields);
  }

  private nodeEntries(nodeId?: string): CachedChild<Node>[] {
    if (nodeId === undefined) return this.nodes.list();
    const one = this.nodes.get(nodeId);
    return one ? [one] : [];
  }

  /** `/request-list` rows, by id. */
  requestRows(): StatusRow[] {
    return this.requests.list().map((c) => requestRow(c.value));
  }

  /** `/label-list` rows. */
  labelRows(): StatusRow[] {
    return labelRows(this.pools.list().map((c) => c.value));
  }

  /** `/launcher-list` rows. */
  launcherRows(): StatusRow[] {
    return launcherRows(this.launchers.list(), this.pools.list());
  }

  /** `/provider-list` rows; caps from `localProviders` (this launcher's nodepool.yaml). */
  providerRows(localProviders: ReadonlyMap<string, ProviderConfig> | undefined): StatusRow[] {
    return providerRows(this.pools.list(), this.nodes.list().map((c) => c.value), this.launchers.list(), localProviders);
  }

  /** `/image-list` rows (uploads). */
  imageRows(): StatusRow[] {
    return imageListRows(this.images.current());
  }

  /** `/dib-image-list` rows (builds). */
  dibImageRows(): StatusRow[] {
    return dibImageListRows(this.images.current());
  }

  /** `/image-status` rows (pause flags and build requests). */
  imageStatusRows(): StatusRow[] {
    return imageStatusRows(this.images.current());
  }
}
