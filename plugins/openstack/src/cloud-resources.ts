/**
 * Cached lookups one provider shares between all its state machines (spec drivers-config §5.3):
 * the server list (about 1 s, one request in flight at a time), flavors, images, networks, AZs and
 * limits. Caches of names that come from configuration are cleared on a Nova 400, which may mean
 * the cloud changed under us.
 */
import type { Logger } from '@nodepool-ts/sdk';
import type { ComputeLimits, Flavor, Image, Network, OpenStackClient, Server, Volume, VolumeLimits } from './openstack-client';

/** A value cached for `ttlMs`, refreshed by one caller at a time. */
class Cached<T> {
  private value: T | undefined;
  private at = 0;
  private loading: Promise<T> | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
  ) {}

  /** The cached value, loaded again when older than the TTL. */
  get(): Promise<T> {
    if (this.value !== undefined && performance.now() - this.at < this.ttlMs) return Promise.resolve(this.value);
    this.loading ??= this.load().then(
      (v) => {
        this.value = v;
        this.at = performance.now();
        this.loading = null;
        return v;
      },
      (err: unknown) => {
        this.loading = null;
        throw err;
      },
    );
    return this.loading;
  }

  /** The last value without loading (undefined before the first load). */
  peek(): T | undefined {
    return this.value;
  }

  /** Forgets the value, so the next get loads. */
  clear(): void {
    this.value = undefined;
  }
}

/** TTLs of the caches, ms. */
export interface CacheTtls {
  servers: number;
  flavors: number;
  images: number;
  limits: number;
  zones: number;
  /** Minimum time between reloads of the flavor or image list on a lookup miss. */
  missRefresh: number;
}

const DEFAULT_TTLS: CacheTtls = { servers: 1000, flavors: 3600_000, images: 300_000, limits: 60_000, zones: 3600_000, missRefresh: 300_000 };

/** The caches; see the module comment. */
export class CloudResources {
  readonly servers: Cached<Server[]>;
  readonly flavors: Cached<Flavor[]>;
  readonly images: Cached<Image[]>;
  readonly limits: Cached<ComputeLimits>;
  readonly volumeLimits: Cached<VolumeLimits | null>;
  readonly volumes: Cached<Volume[]>;
  readonly zones: Cached<string[]>;
  private readonly networks = new Map<string, Promise<Network>>();
  private externalNet: Promise<Network | null> | null = null;
  private readonly lastMissRefresh = new Map<string, number>();
  private readonly missRefreshMs: number;

  constructor(
    readonly client: OpenStackClient,
    private readonly log: Logger,
    ttls: Partial<CacheTtls> = {},
  ) {
    const t = { ...DEFAULT_TTLS, ...ttls };
    this.missRefreshMs = t.missRefresh;
    this.servers = new Cached(t.servers, () => client.listServers());
    this.flavors = new Cached(t.flavors, () => client.listFlavors());
    this.images = new Cached(t.images, () => client.listImages());
    this.limits = new Cached(t.limits, () => client.computeLimits());
    this.volumeLimits = new Cached(t.limits, () => client.volumeLimits());
    this.volumes = new Cached(t.servers, () => client.listVolumes());
    this.zones = new Cached(t.zones, () => client.availabilityZones().catch((err: unknown) => {
      // Nodepool then launches without an AZ.
      this.log.warn('could not list availability zones', { err: (err as Error).message });
      return [];
    }));
  }

  /**
   * The flavor for a label (adapter.py:685-708): with `min-ram`, the smallest flavor (by ram,
   * then name) with enough RAM whose name contains `flavor-name` if given; otherwise the flavor
   * whose name or id equals `flavor-name`.
   */
  async flavorFor(minRam: number | undefined, flavorName: string | undefined): Promise<Flavor> {
    let found = pickFlavor(await this.flavors.get(), minRam, flavorName);
    if (!found && this.missRefreshAllowed('flavors')) {
      // A flavor added since the list was cached: look once more before giving up.
      this.flavors.clear();
      found = pickFlavor(await this.flavors.get(), minRam, flavorName);
    }
    if (!found) throw new Error(`Unable to find flavor with min-ram ${String(minRam ?? '-')} and name ${String(flavorName ?? '-')}`);
    return found;
  }

  /** The flavor for a label from the cached list only, or undefined (sync callers). */
  cachedFlavorFor(minRam: number | undefined, flavorName: string | undefined): Flavor | undefined {
    const list = this.flavors.peek();
    return list ? pickFlavor(list, minRam, flavorName) : undefined;
  }

  /** Id of the active image whose name or id is `nameOrId`. */
  async imageId(nameOrId: string): Promise<string> {
    const match = (list: Image[]): Image | undefined => list.find((i) => (i.id === nameOrId || i.name === nameOrId) && i.status === 'active');
    let image = match(await this.images.get());
    if (!image && this.missRefreshAllowed('images')) {
      // A new upload may be missing from the cache; look once more before giving up.
      this.images.clear();
      image = match(await this.images.get());
    }
    if (!image) throw new Error(`Unable to find image ${nameOrId}`);
    return image.id;
  }

  /** Network ids for names or ids (cached per name). */
  async networkIds(namesOrIds: string[], provider: string): Promise<string[]> {
    return Promise.all(
      namesOrIds.map(async (n) => {
        let p = this.networks.get(n);
        if (!p) {
          p = this.client.findNetwork(n);
          this.networks.set(n, p);
          p.catch(() => this.networks.delete(n));
        }
        try {
          return (await p).id;
        } catch (err) {
          throw new Error(`Unable to find network ${n} in provider ${provider}: ${(err as Error).message}`);
        }
      }),
    );
  }

  /**
   * The external network floating IPs come from: clouds.yaml's `nat_source` network (by name or
   * id) when set, else the first external one; null when the cloud has none (then no floating IPs).
   */
  externalNetwork(natSource?: string | null): Promise<Network | null> {
    this.externalNet ??= this.client.externalNetworks().then(
      (nets) => (natSource ? nets.find((n) => n.name === natSource || n.id === natSource) : nets[0]) ?? null,
      (err: unknown) => {
        this.externalNet = null;
        throw err;
      },
    );
    return this.externalNet;
  }

  /**
   * Whether a lookup miss may reload `list` now: at most once per `missRefreshMs` (Nodepool: 300 s),
   * so a label naming a missing image or flavor does not relist on every launch attempt.
   */
  private missRefreshAllowed(list: 'flavors' | 'images'): boolean {
    const now = performance.now();
    const last = this.lastMissRefresh.get(list);
    if (last !== undefined && now - last < this.missRefreshMs) return false;
    this.lastMissRefresh.set(list, now);
    return true;
  }

  /** One server from the shared list, or undefined when it is not (or no longer) listed. */
  async server(id: string): Promise<Server | undefined> {
    return (await this.servers.get()).find((s) => s.id === id);
  }

  /** After a Nova 400: forget names that may have changed in the cloud. */
  clearConfigCaches(): void {
    this.flavors.clear();
    this.images.clear();
    this.zones.clear();
    this.networks.clear();
    this.externalNet = null;
  }
}

/** See {@link CloudResources.flavorFor}; `flavors` sorted by (ram, name). */
export function pickFlavor(flavors: Flavor[], minRam: number | undefined, flavorName: string | undefined): Flavor | undefined {
  if (minRam !== undefined) return flavors.find((f) => f.ram >= minRam && (!flavorName || f.name.includes(flavorName)));
  return flavors.find((f) => f.name === flavorName || f.id === flavorName);
}
