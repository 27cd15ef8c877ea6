/**
 * The REST calls of spec drivers-config §5.3, over a {@link KeystoneSession}: Nova servers,
 * flavors, limits and AZs; Glance images; Neutron networks, ports and floating IPs. Thin: no
 * caching here (the provider caches), only pagination and response shapes.
 */
import { NotFoundError } from '@nodepool-ts/sdk';
import { OpenStackApiError } from './http-transport';
import type { KeystoneSession, ServiceType } from './keystone-session';

/** One entry of a Nova server's `addresses`. */
export interface ServerAddress {
  addr: string;
  version: number;
  'OS-EXT-IPS:type'?: string;
  'OS-EXT-IPS-MAC:mac_addr'?: string;
}

/** The fields of a Nova server the driver reads. */
export interface Server {
  id: string;
  name: string;
  status: string;
  addresses?: Record<string, ServerAddress[]>;
  accessIPv4?: string;
  accessIPv6?: string;
  metadata?: Record<string, string>;
  hostId?: string;
  /** `{id}` without a microversion; `{original_name, vcpus, ram}` from 2.47 on. */
  flavor?: { id?: string; original_name?: string; vcpus?: number; ram?: number };
  'OS-EXT-AZ:availability_zone'?: string;
  fault?: { message?: string };
  'os-extended-volumes:volumes_attached'?: { id: string }[];
}

/** A Nova flavor. */
export interface Flavor {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk?: number;
}

/** A Glance image. */
export interface Image {
  id: string;
  name: string;
  status: string;
  /** Set by a Nodepool builder on its uploads (Glance v2 keeps properties as top-level keys). */
  nodepool_build_id?: string;
  /** Glance v1 style (and openstacksdk's normalized form). */
  properties?: Record<string, unknown>;
}

/** A Neutron network. */
export interface Network {
  id: string;
  name: string;
  'router:external'?: boolean;
}

/** A Neutron port. */
export interface Port {
  id: string;
  network_id: string;
  device_id?: string;
  device_owner?: string | null;
  status?: string;
  fixed_ips?: { ip_address: string; subnet_id?: string }[];
}

/** A Neutron floating IP. */
export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  fixed_ip_address?: string | null;
  port_id?: string | null;
  floating_network_id?: string;
  status?: string;
}

/** Nova absolute limits (−1 = unlimited). */
export interface ComputeLimits {
  maxTotalInstances: number;
  maxTotalCores: number;
  maxTotalRAMSize: number;
}

/** Cinder absolute limits (−1 = unlimited). */
export interface VolumeLimits {
  maxTotalVolumes: number;
  maxTotalVolumeGigabytes: number;
}

/** A Cinder volume. */
export interface Volume {
  id: string;
  size: number;
}

/** What {@link OpenStackClient.createServer} sends in `server`. */
export interface ServerCreate {
  name: string;
  imageRef: string;
  flavorRef: string;
  metadata: Record<string, string>;
  networks?: { uuid: string }[] | 'auto' | 'none';
  key_name?: string;
  availability_zone?: string;
  security_groups?: { name: string }[];
  user_data?: string;
  config_drive?: boolean;
  block_device_mapping_v2?: Record<string, unknown>[];
}

/** True for a "not found" answer. */
export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || (err instanceof OpenStackApiError && err.status === 404);
}

const MAX_PAGES = 1000;

/** Typed OpenStack calls; see the module comment. */
export class OpenStackClient {
  constructor(readonly session: KeystoneSession) {}

  private async get<T>(service: ServiceType, path: string): Promise<T> {
    return (await this.session.request(service, { method: 'GET', path })).body as T;
  }

  /**
   * A 2xx answer of the wrong shape, as an error naming the URL. Found by the malformed-answer
   * test: unchecked bodies (`null`, `{"servers": {...}}`, `[null]`) became TypeErrors like
   * "Cannot read properties of null (reading 'servers')" that named no call.
   */
  private async badAnswer(service: ServiceType, method: string, path: string, what: string): Promise<OpenStackApiError> {
    const base = /^https?:\/\//.test(path) ? '' : await this.session.endpoint(service).catch(() => `<${service}>`);
    const url = `${base}${path}`.split('?')[0];
    return new OpenStackApiError(`${method} ${url}: ${what}`, 200, `${method} ${new URL(url, 'http://x').pathname}`);
  }

  /** `body[key]` as a list of resources (objects with a string id), or a {@link badAnswer}. */
  private async listOf<T>(service: ServiceType, method: string, path: string, body: unknown, key: string): Promise<T[]> {
    const items = isObject(body) ? body[key] : undefined;
    if (!Array.isArray(items)) throw await this.badAnswer(service, method, path, `answer has no "${key}" list`);
    if (!items.every(isResource)) throw await this.badAnswer(service, method, path, `answer has a "${key}" entry without a string id`);
    return items as T[];
  }

  /** `body[key]` as one resource (an object with a string id), or a {@link badAnswer}. */
  private async oneOf<T>(service: ServiceType, method: string, path: string, body: unknown, key: string): Promise<T> {
    const item = isObject(body) ? body[key] : undefined;
    if (!isResource(item)) throw await this.badAnswer(service, method, path, `answer has no "${key}" with a string id`);
    return item as T;
  }

  /**
   * Follows `<key>_links[rel=next]` (Nova) or `next` (Glance) until a page is empty or has no next
   * link; stops if a link repeats, which would otherwise loop forever (adapter.py:721-802).
   */
  private async paginate<T>(service: ServiceType, path: string, key: string): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    let next: string | null = path;
    for (let page = 0; next !== null && page < MAX_PAGES; page++) {
      seen.add(next);
      const body: Record<string, unknown> = await this.get<Record<string, unknown>>(service, next);
      const items = await this.listOf<T>(service, 'GET', next, body, key);
      out.push(...items);
      if (items.length === 0) break;
      next = await this.nextLink(service, body, key);
      if (next !== null && seen.has(next)) break;
    }
    return out;
  }

  private async nextLink(service: ServiceType, body: Record<string, unknown>, key: string): Promise<string | null> {
    const links = body[`${key}_links`] as { rel: string; href: string }[] | undefined;
    const href = links?.find((l) => l.rel === 'next')?.href ?? (typeof body.next === 'string' ? body.next : null);
    if (!href) return null;
    if (/^https?:\/\//.test(href)) {
      // Clouds behind proxies often put an internal host in links; keep the endpoint's origin (and
      // never send the token to a host the catalog did not name).
      const link = new URL(href);
      const endpoint = new URL(await this.session.endpoint(service));
      return link.origin === endpoint.origin ? href : `${endpoint.origin}${link.pathname}${link.search}`;
    }
    // Glance gives `/v2/images?marker=...`, relative to the unversioned endpoint (which may
    // itself have a path, e.g. `https://cloud/image`).
    const endpoint = (await this.session.endpoint(service)).replace(/\/v[0-9.]+$/, '');
    return `${endpoint}${href}`;
  }

  /** All servers with details (every status). */
  listServers(): Promise<Server[]> {
    return this.paginate<Server>('compute', '/servers/detail', 'servers');
  }

  /** One server; rejects with NotFoundError when absent. */
  async getServer(id: string): Promise<Server> {
    try {
      const path = `/servers/${encodeURIComponent(id)}`;
      return await this.oneOf<Server>('compute', 'GET', path, await this.get('compute', path), 'server');
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`server ${id} not found`);
      throw err;
    }
  }

  /** Boots a server; returns its id. Not retried here (a retry could boot two). */
  async createServer(server: ServerCreate): Promise<string> {
    const res = await this.session.request('compute', { method: 'POST', path: '/servers', body: { server: { ...server, min_count: 1, max_count: 1 } } });
    return (await this.oneOf<{ id: string }>('compute', 'POST', '/servers', res.body, 'server')).id;
  }

  /** Deletes a server; NotFoundError when it is already gone. */
  async deleteServer(id: string): Promise<void> {
    try {
      await this.session.request('compute', { method: 'DELETE', path: `/servers/${encodeURIComponent(id)}` });
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`server ${id} not found`);
      throw err;
    }
  }

  /** The console log, or "" when Nova refuses (400). */
  async consoleLog(id: string): Promise<string> {
    try {
      const res = await this.session.request('compute', { method: 'POST', path: `/servers/${encodeURIComponent(id)}/action`, body: { 'os-getConsoleOutput': {} }, idempotent: true });
      return (res.body as { output?: string } | null)?.output ?? '';
    } catch (err) {
      if (err instanceof OpenStackApiError && err.status === 400) return '';
      throw err;
    }
  }

  /** All flavors, sorted by (ram, name) as Nodepool picks them. */
  async listFlavors(): Promise<Flavor[]> {
    const flavors = await this.paginate<Flavor>('compute', '/flavors/detail', 'flavors');
    return flavors.sort((a, b) => a.ram - b.ram || a.name.localeCompare(b.name));
  }

  /** Nova absolute limits. */
  async computeLimits(): Promise<ComputeLimits> {
    const body = await this.get<{ limits: { absolute: Partial<ComputeLimits> } }>('compute', '/limits');
    const a = body.limits?.absolute ?? {};
    return { maxTotalInstances: a.maxTotalInstances ?? -1, maxTotalCores: a.maxTotalCores ?? -1, maxTotalRAMSize: a.maxTotalRAMSize ?? -1 };
  }

  /** Names of available AZs; [] on error (Nodepool then uses no AZ). */
  async availabilityZones(): Promise<string[]> {
    const body = await this.get<{ availabilityZoneInfo?: { zoneName: string; zoneState?: { available?: boolean } }[] }>('compute', '/os-availability-zone');
    return (body.availabilityZoneInfo ?? []).filter((z) => z.zoneState?.available).map((z) => z.zoneName);
  }

  /** Cinder limits, or null when the cloud has no block-storage service (volumes are then ignored). */
  async volumeLimits(): Promise<VolumeLimits | null> {
    if (!(await this.session.hasService('volume'))) return null;
    const body = await this.get<{ limits: { absolute: Partial<VolumeLimits> } }>('volume', '/limits');
    const a = body.limits?.absolute ?? {};
    return { maxTotalVolumes: a.maxTotalVolumes ?? -1, maxTotalVolumeGigabytes: a.maxTotalVolumeGigabytes ?? -1 };
  }

  /** All volumes, or [] when the cloud has no block-storage service. */
  async listVolumes(): Promise<Volume[]> {
    if (!(await this.session.hasService('volume'))) return [];
    return this.paginate<Volume>('volume', '/volumes/detail', 'volumes');
  }

  /** All images (Glance v2, paginated). */
  listImages(): Promise<Image[]> {
    // Glance pages by 25 unless asked; with `rate` throttling each page, ask for its maximum.
    return this.paginate<Image>('image', '/images?limit=1000', 'images');
  }

  /** A network by id or name; NotFoundError when neither matches. */
  async findNetwork(nameOrId: string): Promise<Network> {
    try {
      const byId = `/networks/${encodeURIComponent(nameOrId)}`;
      return await this.oneOf<Network>('network', 'GET', byId, await this.get('network', byId), 'network');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const byName = `/networks?name=${encodeURIComponent(nameOrId)}`;
    const networks = await this.listOf<Network>('network', 'GET', byName, await this.get('network', byName), 'networks');
    if (networks.length === 0) throw new NotFoundError(`network ${nameOrId} not found`);
    return networks[0];
  }

  /** Networks with `router:external=true`. */
  async externalNetworks(): Promise<Network[]> {
    const path = '/networks?router:external=true';
    return this.listOf<Network>('network', 'GET', path, await this.get('network', path), 'networks');
  }

  /** Ports, optionally filtered (`device_id`, `status`). */
  async listPorts(filter: Record<string, string> = {}): Promise<Port[]> {
    const q = new URLSearchParams(filter).toString();
    const path = `/ports${q ? `?${q}` : ''}`;
    return this.listOf<Port>('network', 'GET', path, await this.get('network', path), 'ports');
  }

  /** Deletes a port; NotFoundError when gone. */
  async deletePort(id: string): Promise<void> {
    await this.deleteNetworkThing('ports', id);
  }

  /** Floating IPs, optionally filtered (`port_id`, `floating_ip_address`). */
  async listFloatingIps(filter: Record<string, string> = {}): Promise<FloatingIp[]> {
    const q = new URLSearchParams(filter).toString();
    const path = `/floatingips${q ? `?${q}` : ''}`;
    return this.listOf<FloatingIp>('network', 'GET', path, await this.get('network', path), 'floatingips');
  }

  /** One floating IP; NotFoundError when gone. */
  async getFloatingIp(id: string): Promise<FloatingIp> {
    try {
      const path = `/floatingips/${encodeURIComponent(id)}`;
      return await this.oneOf<FloatingIp>('network', 'GET', path, await this.get('network', path), 'floatingip');
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`floating ip ${id} not found`);
      throw err;
    }
  }

  /** Allocates a floating IP on `networkId` bound to `portId`. Not retried here. */
  async createFloatingIp(networkId: string, portId: string, fixedIp?: string): Promise<FloatingIp> {
    const floatingip: Record<string, string> = { floating_network_id: networkId, port_id: portId };
    if (fixedIp) floatingip.fixed_ip_address = fixedIp;
    const res = await this.session.request('network', { method: 'POST', path: '/floatingips', body: { floatingip } });
    return this.oneOf<FloatingIp>('network', 'POST', '/floatingips', res.body, 'floatingip');
  }

  /** Binds a floating IP to a port. */
  async attachFloatingIp(id: string, portId: string): Promise<void> {
    await this.session.request('network', { method: 'PUT', path: `/floatingips/${encodeURIComponent(id)}`, body: { floatingip: { port_id: portId } } });
  }

  /** Releases a floating IP; NotFoundError when gone. */
  async deleteFloatingIp(id: string): Promise<void> {
    await this.deleteNetworkThing('floatingips', id);
  }

  private async deleteNetworkThing(kind: 'ports' | 'floatingips', id: string): Promise<void> {
    try {
      await this.session.request('network', { method: 'DELETE', path: `/${kind}/${encodeURIComponent(id)}` });
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`${kind} ${id} not found`);
      throw err;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An OpenStack resource as far as we rely on it everywhere: an object with a string id. */
function isResource(value: unknown): boolean {
  return isObject(value) && typeof value.id === 'string';
}
