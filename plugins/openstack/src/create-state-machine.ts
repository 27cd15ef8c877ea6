/**
 * Create state machine of the OpenStack driver (spec drivers-config §5.4): boot the server, wait
 * for ACTIVE, add a floating IP when the server has no public address, then report the instance.
 * A create that failed without an answer is never blindly repeated: the machine first looks for a
 * server with our name and node id (the request may have reached Nova) and adopts it.
 */
import { QuotaError, StateMachine, type CreateRequest, type Instance, type Logger, type NodeRequest, QuotaInformation } from '@nodepool-ts/sdk';
import type { CloudResources } from './cloud-resources';
import type { CloudNetworks } from './clouds-yaml';
import { formatDynamicProperties } from './dynamic-properties';
import { isTransient, OpenStackApiError } from './http-transport';
import type { Flavor, Server, ServerCreate } from './openstack-client';
import { needsFloatingIp, serverIps, type ServerIps } from './server-addresses';

/** Everything the machine needs that does not change during the launch. */
export interface CreateContext {
  resources: CloudResources;
  providerName: string;
  cloudName: string;
  region: string | null;
  /** The server body minus name/metadata/image/flavor/networks (filled by the machine). */
  extra: Partial<ServerCreate>;
  imageName: string;
  /** Image to look up by name or id when `request.imageExternalId` is not set. */
  imageLookup: string | null;
  minRam?: number;
  flavorName?: string;
  networks: string[];
  autoFloatingIp: boolean;
  bootFromVolume: boolean;
  volumeSize: number;
  /** Server metadata before the nodepool keys (groups, instance properties). */
  metadata: Record<string, string>;
  /** `dynamic-instance-properties` templates, formatted with the node request at submit time. */
  dynamicProperties: Record<string, string>;
  /** Reads the node request the launch is for (undefined when gone or none). */
  loadRequest: () => Promise<NodeRequest | undefined>;
  /** clouds.yaml `networks[].default_interface` network name. */
  defaultNetwork: string | null;
  /** clouds.yaml `private`: no floating IPs, the private address is the interface. */
  privateCloud: boolean;
  /** clouds.yaml `networks` (external/internal, `nat_destination`, `nat_source`). */
  cloudNetworks?: CloudNetworks;
}

/** Quota a server of `flavor` uses (§5.4 step 1). */
export function flavorQuota(flavor: Flavor, bootFromVolume = false, volumeSize = 0): QuotaInformation {
  const q: Record<string, number> = { instances: 1, cores: flavor.vcpus, ram: flavor.ram };
  if (bootFromVolume) Object.assign(q, { volumes: 1, 'volume-gb': volumeSize });
  return new QuotaInformation(q);
}

/** Builds an {@link Instance} from a listed server. */
export function instanceOf(
  server: Server, cloudName: string | null, region: string | null, quota?: QuotaInformation, defaultNetwork?: string | null, privateCloud = false,
  nets?: CloudNetworks,
): Instance {
  const ips = serverIps(server, defaultNetwork, privateCloud, nets);
  return {
    externalId: server.id,
    metadata: { ...(server.metadata ?? {}) },
    interfaceIp: ips.interfaceIp,
    publicIpv4: ips.publicIpv4,
    privateIpv4: ips.privateIpv4,
    publicIpv6: ips.publicIpv6,
    cloud: cloudName,
    region,
    az: server['OS-EXT-AZ:availability_zone'] ?? null,
    hostId: server.hostId ?? null,
    quota,
  };
}

const MAX_CREATE_POSTS = 5;

/**
 * States a launch taken over from a dead launcher goes on from: the server exists (its id is
 * known), so the machine waits for it again from `server creating`, which finds out anew whether
 * a floating IP is needed and reuses one already on the server's port. Before the create was
 * answered there is nothing to resume (the node is deleted and the request launches again).
 */
export const RESUMABLE_CREATE_STATES: ReadonlySet<string> = new Set(['server creating', 'floating ip creating', 'floating ip attaching']);

/** The create machine; see the module comment. */
export class OpenstackCreateStateMachine extends StateMachine {
  private flavor: Flavor | null = null;
  private dynamic: Record<string, string> | undefined;
  private posts = 0;
  private retryAt = 0;
  private misses = 0;
  private floatingIpId: string | null = null;
  private floatingAddress: string | null = null;
  /** A floating IP create was refused with 409 once: the next one is not retried (see createFloatingIp). */
  private conflictSeen = false;

  constructor(
    private readonly ctx: CreateContext,
    private readonly request: CreateRequest,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Goes on with the server `externalId` of a launch stored in a resumable state (see above). */
  resumeAt(externalId: unknown): this {
    this.externalId = externalId;
    this.state = 'server creating';
    return this;
  }

  private get client(): CloudResources['client'] {
    return this.ctx.resources.client;
  }

  async advance(): Promise<Instance | undefined> {
    try {
      return await this.step();
    } catch (err) {
      // The cached limits were wrong: the next quota check must ask the cloud again.
      if (err instanceof QuotaError) {
        this.ctx.resources.limits.clear();
        this.ctx.resources.volumeLimits.clear();
      }
      // While waiting on the cloud, an outage that outlasted the transport's retries is waited
      // out (launch-timeout bounds it) rather than failing a server that may be fine.
      if (this.state !== 'start' && isTransient(err)) {
        this.log.warn('cloud API unavailable; waiting', { state: this.state, err: (err as Error).message });
        return undefined;
      }
      throw err;
    }
  }

  private async step(): Promise<Instance | undefined> {
    switch (this.state) {
      case 'start':
        return this.submit();
      case 'create check':
        return this.checkCreated();
      case 'server creating':
        return this.waitActive();
      case 'floating ip creating':
        return this.createFloatingIp();
      case 'floating ip attaching':
        return this.waitFloatingIp();
      default:
        throw new Error(`unknown state ${this.state}`);
    }
  }

  private async submit(): Promise<undefined> {
    if (performance.now() < this.retryAt) return undefined;
    const { resources } = this.ctx;
    this.flavor ??= await resources.flavorFor(this.ctx.minRam, this.ctx.flavorName);
    const imageId = this.request.imageExternalId ?? (this.ctx.imageLookup ? await resources.imageId(this.ctx.imageLookup) : null);
    if (!imageId) throw new Error(`no image for label ${this.request.label}`);
    const networkIds = await resources.networkIds(this.ctx.networks, this.ctx.providerName);
    this.dynamic ??= Object.keys(this.ctx.dynamicProperties).length === 0
      ? {}
      : formatDynamicProperties(this.ctx.dynamicProperties, await this.ctx.loadRequest(), this.log);
    const body: ServerCreate = {
      ...this.ctx.extra,
      name: this.request.hostname,
      imageRef: this.ctx.bootFromVolume ? '' : imageId,
      flavorRef: this.flavor.id,
      // The nodepool keys win over configured properties (adapter.py:250-277).
      metadata: { ...this.ctx.metadata, ...this.dynamic, ...this.request.metadata },
    };
    if (networkIds.length > 0) body.networks = networkIds.map((uuid) => ({ uuid }));
    if (this.request.az) body.availability_zone = this.request.az;
    if (this.ctx.bootFromVolume) {
      body.block_device_mapping_v2 = [
        { boot_index: '0', source_type: 'image', destination_type: 'volume', uuid: imageId, volume_size: String(this.ctx.volumeSize), delete_on_termination: true },
      ];
    }
    this.posts++;
    try {
      this.externalId = await this.client.createServer(body);
      this.state = 'server creating';
      this.log.debug('server create submitted', { external_id: this.externalId });
    } catch (err) {
      if (err instanceof QuotaError) throw err;
      if (err instanceof OpenStackApiError && err.status === 400) {
        // The flavor/image/network we resolved may be gone: look them up again next time.
        this.ctx.resources.clearConfigCaches();
        throw err;
      }
      if (!isTransient(err) || this.posts >= MAX_CREATE_POSTS) throw err;
      this.log.warn('server create got no clear answer; checking whether it happened', { err: (err as Error).message, attempt: this.posts });
      this.state = 'create check';
    }
    return undefined;
  }

  /** After an unanswered create: adopt the server if Nova made it, else post again later. */
  private async checkCreated(): Promise<undefined> {
    this.ctx.resources.servers.clear();
    const servers = await this.ctx.resources.servers.get();
    const mine = servers.find(
      (s) => s.name === this.request.hostname && s.metadata?.nodepool_node_id === this.request.nodeId && s.status !== 'DELETED',
    );
    if (mine) {
      this.externalId = mine.id;
      this.state = 'server creating';
      this.log.info('adopted server created by an unanswered request', { external_id: mine.id });
      return undefined;
    }
    this.retryAt = performance.now() + Math.min(8000, 500 * 2 ** (this.posts - 1));
    this.state = 'start';
    return undefined;
  }

  private async waitActive(): Promise<Instance | undefined> {
    const id = String(this.externalId);
    let server = await this.ctx.resources.server(id);
    if (!server) {
      // The shared list can predate the create; ask for this one server after a few misses.
      if (++this.misses < 3) return undefined;
      server = await this.client.getServer(id);
    }
    this.misses = 0;
    if (server.status === 'ERROR') {
      const fault = server.fault?.message ?? (await this.client.getServer(id).catch(() => server)).fault?.message ?? '';
      if (fault.toLowerCase().includes('quota') && fault.toLowerCase().includes('exceeds')) throw new QuotaError(`Server ${id} in error state: ${fault}`);
      throw new Error(`Server ${id} in error state${fault ? `: ${fault}` : ''}`);
    }
    if (server.status === 'DELETED') throw new Error(`Server ${id} was deleted while booting`);
    if (server.status !== 'ACTIVE') return undefined;
    const wantsFloatingIp = this.ctx.autoFloatingIp && !this.ctx.privateCloud && needsFloatingIp(this.ips(server));
    if (wantsFloatingIp && (await this.ctx.resources.externalNetwork(this.ctx.cloudNetworks?.natSource))) {
      this.state = 'floating ip creating';
      return undefined;
    }
    return this.finish(server);
  }

  /** Creates (or, after a lost answer, finds) the floating IP of the server's port. */
  private async createFloatingIp(): Promise<undefined> {
    const id = String(this.externalId);
    const server = (await this.ctx.resources.server(id)) ?? (await this.client.getServer(id));
    const fixed = this.ips(server).fixedIpv4;
    const ports = await this.client.listPorts({ device_id: id });
    const port = ports.find((p) => p.fixed_ips?.some((ip) => ip.ip_address === fixed?.addr)) ?? ports[0];
    if (!port) return undefined;
    const existing = (await this.client.listFloatingIps({ port_id: port.id }))[0];
    const net = await this.ctx.resources.externalNetwork(this.ctx.cloudNetworks?.natSource);
    if (!net) throw new Error('external network disappeared');
    try {
      const fip = existing ?? (await this.client.createFloatingIp(net.id, port.id, fixed?.addr));
      this.floatingIpId = fip.id;
      this.floatingAddress = fip.floating_ip_address;
      this.state = 'floating ip attaching';
      this.log.debug('floating ip created', { external_id: id, floating_ip: fip.floating_ip_address });
    } catch (err) {
      if (err instanceof QuotaError) throw err;
      // Neutron allows one floating IP per fixed IP: a 409 means one landed on the port after we
      // looked. That is a create still in flight when we looked: our own whose answer was lost,
      // or the one of a launcher that died in this step and whose launch we resumed (seen on the
      // testbed). The next pass finds it on the port and uses it; none there is a real conflict.
      if (err instanceof OpenStackApiError && err.status === 409 && !this.conflictSeen) {
        this.conflictSeen = true;
        this.log.info('floating ip create conflicts with one already on the port; looking for it there', { external_id: id, err: err.message });
        return undefined;
      }
      // A lost answer: the next pass looks for the FIP on the port before creating another.
      if (!isTransient(err)) throw err;
      this.log.warn('floating ip create got no clear answer; checking again', { err: (err as Error).message });
    }
    return undefined;
  }

  /**
   * Waits for the floating IP to be bound and shown in the server's addresses (§5.4 step 4). The
   * FIP's own status is not waited for: without an L3 agent Neutron leaves it DOWN for good,
   * while Nova showing the address is what the node needs.
   */
  private async waitFloatingIp(): Promise<Instance | undefined> {
    const listed = await this.ctx.resources.server(String(this.externalId));
    if (listed && this.ips(listed).floating.includes(String(this.floatingAddress))) return this.finish(listed);
    const fip = await this.client.getFloatingIp(String(this.floatingIpId));
    if (!fip.port_id) {
      const ports = await this.client.listPorts({ device_id: String(this.externalId) });
      if (ports[0]) await this.client.attachFloatingIp(fip.id, ports[0].id);
    }
    // Bound: Nova shows the address a little later.
    return undefined;
  }

  private finish(server: Server): Instance {
    this.complete = true;
    this.state = 'complete';
    const quota = this.flavor ? flavorQuota(this.flavor, this.ctx.bootFromVolume, this.ctx.volumeSize) : undefined;
    return instanceOf(server, this.ctx.cloudName, this.ctx.region, quota, this.ctx.defaultNetwork, this.ctx.privateCloud, this.ctx.cloudNetworks);
  }

  private ips(server: Server): ServerIps {
    return serverIps(server, this.ctx.defaultNetwork, this.ctx.privateCloud, this.ctx.cloudNetworks);
  }
}
