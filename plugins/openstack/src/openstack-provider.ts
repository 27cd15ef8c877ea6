/**
 * A running OpenStack provider (spec drivers-config §5): connects with clouds.yaml credentials,
 * hands the engine create/delete state machines, launch settings, quota and leak information.
 */
import {
  leakTags, NotFoundError, QuotaInformation, type CreateRequest, type Instance, type Logger, type Node, type NodeLaunchRecord, type NodeLaunchSettings,
  type PoolConfig, type Provider, type ProviderConfig, type ProviderContext, type Resource, type StateMachine,
} from '@nodepool-ts/sdk';
import { CloudResources, type CacheTtls } from './cloud-resources';
import { loadCloudCredentials, type CloudCredentials } from './clouds-yaml';
import { flavorQuota, instanceOf, OpenstackCreateStateMachine, RESUMABLE_CREATE_STATES, type CreateContext } from './create-state-machine';
import { OpenstackDeleteStateMachine } from './delete-state-machine';
import { readyUploads } from './diskimage-uploads';
import { pythonStr } from './dynamic-properties';
import type { CallRecord, TransportOptions } from './http-transport';
import { KeystoneSession } from './keystone-session';
import { OpenStackClient, isNotFound, type Flavor, type Server, type Volume } from './openstack-client';
import {
  configDriveOf, imageSourceOf, labelOf, launchSettingsOf, type OpenstackLabel, type OpenstackPool, type ReadyUpload,
} from './openstack-labels';

/** Test and tuning knobs; production uses the defaults. */
export interface OpenstackProviderOptions {
  /** Environment for the clouds.yaml search (default process.env). */
  env?: NodeJS.ProcessEnv;
  transport?: TransportOptions;
  cacheTtls?: Partial<CacheTtls>;
  /** How long start() waits for the first flavor/image lists, ms (default 15000). */
  startWaitMs?: number;
  /** How often ready diskimage uploads are read from ZooKeeper, ms (default 30000). */
  uploadRefreshMs?: number;
}

/**
 * The resource a call is about, for a metric label without ids: the first word after the API
 * version (`/compute/v2.1/servers/<id>/action` → `servers`, `/v3/auth/tokens` → `auth`).
 */
export function resourceOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const version = parts.findIndex((p) => /^v[0-9.]+$/.test(p));
  const words = parts.slice(version + 1).filter((p) => /^[a-z][a-z0-9_:-]*$/i.test(p) && !/[0-9a-f]{8}/i.test(p));
  return words[0] ?? 'root';
}

/** The provider; see the module comment. */
export class OpenstackProvider implements Provider {
  readonly launches = true;
  private readonly log: Logger;
  private cloud: CloudCredentials | null = null;
  private res: CloudResources | null = null;
  private uploads = new Map<string, ReadyUpload>();
  private uploadTimer: NodeJS.Timeout | undefined;
  /** DOWN port id → when first seen DOWN (ms), for the two-sighting port cleanup (§5.6). */
  private readonly downPorts = new Map<string, number>();

  constructor(
    readonly config: ProviderConfig,
    private readonly context: ProviderContext,
    private readonly options: OpenstackProviderOptions = {},
  ) {
    this.log = context.logger.child({ provider: config.name });
  }

  get name(): string {
    return this.config.name;
  }

  /** The shared caches and client (after start). */
  get resources(): CloudResources {
    if (!this.res) throw new Error(`provider ${this.name} is not started`);
    return this.res;
  }

  async start(): Promise<void> {
    const raw = this.config.raw;
    this.cloud = loadCloudCredentials((raw.cloud as string | undefined) ?? null, (raw['region-name'] as string | null) ?? null, this.options.env);
    for (const warning of this.cloud.warnings) this.log.warn(warning);
    for (const warning of unservableLabels(this.config)) this.log.warn(warning);
    const calls = this.context.metrics.histogram(
      'nodepool_openstack_api_seconds', 'OpenStack API calls by provider, method, resource and status (0 = no answer)',
      ['provider', 'method', 'resource', 'status'],
    );
    const onCall = (c: CallRecord): void => calls.observe({ provider: this.name, method: c.method, resource: resourceOf(c.path), status: String(c.status) }, c.seconds);
    const session = new KeystoneSession(this.cloud, { ...this.options.transport, onCall, rate: raw.rate as number });
    this.res = new CloudResources(new OpenStackClient(session), this.log, this.options.cacheTtls);
    // Warm the caches the synchronous hooks (quota, label readiness) read; failures are retried
    // later. Bounded, so an unreachable cloud does not hold up the engine's other providers.
    const warm = Promise.all([
      this.res.flavors.get().catch((err: unknown) => this.log.warn('could not list flavors', { err: (err as Error).message })),
      this.res.images.get().catch((err: unknown) => this.log.warn('could not list images', { err: (err as Error).message })),
      this.refreshUploads().catch((err: unknown) => this.log.warn('could not read image uploads', { err: (err as Error).message })),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.startWaitMs ?? 15000)));
    await Promise.race([warm, bound]);
    clearTimeout(timer);
    if (this.diskimageNames().length > 0) {
      // New uploads appear in ZooKeeper at any time; labelReady and launchSettings are synchronous.
      this.uploadTimer = setInterval(() => {
        this.refreshUploads().catch((err: unknown) => this.log.warn('could not read image uploads', { err: (err as Error).message }));
      }, this.options.uploadRefreshMs ?? 30_000);
      this.uploadTimer.unref();
    }
    this.log.info('openstack provider started', { cloud: this.cloud.name, region: this.cloud.regionName });
  }

  async stop(): Promise<void> {
    if (this.uploadTimer) clearInterval(this.uploadTimer);
    this.uploadTimer = undefined;
  }

  /** Diskimages used by labels of this provider. */
  private diskimageNames(): string[] {
    const names = new Set<string>();
    for (const pool of this.config.pools) for (const l of (pool.raw as unknown as OpenstackPool).labels ?? []) if (l.diskimage) names.add(l.diskimage);
    return [...names];
  }

  private async refreshUploads(): Promise<void> {
    const images = this.diskimageNames();
    if (images.length > 0) this.uploads = await readyUploads(this.context.zk, this.name, images, this.log);
  }

  labelReady(label: string, pool: PoolConfig): boolean {
    const l = labelOf(pool, label);
    // Loaded as Nodepool's launcher loads it, never ready (its labelReady: no cloud image).
    if (!l.diskimage && !l['cloud-image']) return false;
    const source = imageSourceOf(this.config, l);
    if (source.kind === 'diskimage') return this.uploads.has(source.name);
    if (source.id) return true;
    const images = this.res?.images.peek();
    // Refresh in the background; the engine asks again on its next pass.
    void this.res?.images.get().catch(() => undefined);
    // Never listed yet (cloud slow at start): let launches find out rather than decline requests.
    if (images === undefined) return true;
    return images.some((i) => (i.name === source.name || i.id === source.name) && i.status === 'active');
  }

  launchSettings(label: string, pool: PoolConfig): NodeLaunchSettings {
    const l = labelOf(pool, label);
    return launchSettingsOf(this.config, this.context.config, l, l.diskimage ? this.uploads.get(l.diskimage) : undefined);
  }

  getCreateStateMachine(request: CreateRequest, log: Logger): StateMachine {
    const pool = this.config.pools.find((p) => p.name === request.pool);
    if (!pool) throw new Error(`provider ${this.name} has no pool ${request.pool}`);
    const label = labelOf(pool, request.label);
    const source = imageSourceOf(this.config, label);
    const poolRaw = pool.raw as unknown as OpenstackPool;
    const extra: CreateContext['extra'] = {};
    if (label['key-name']) extra.key_name = label['key-name'];
    if (label.userdata) extra.user_data = Buffer.from(label.userdata, 'utf8').toString('base64');
    if (poolRaw['security-groups']?.length) extra.security_groups = poolRaw['security-groups'].map((name) => ({ name }));
    // Unset = the cloud's default (not sent), as Nodepool.
    const configDrive = configDriveOf(this.config, label);
    if (configDrive !== null) extra.config_drive = configDrive;
    // openstacksdk boots on the clouds.yaml `default_interface` network when none is given.
    const defaultNetwork = this.cloud?.networks.defaultInterface;
    const networks = label.networks?.length ? label.networks : defaultNetwork ? [defaultNetwork] : [];
    const ctx: CreateContext = {
      resources: this.resources,
      providerName: this.name,
      cloudName: this.cloud?.name ?? String(this.config.raw.cloud ?? ''),
      region: this.cloud?.regionName ?? null,
      extra,
      imageName: source.name,
      imageLookup: source.kind === 'cloud' ? (source.id ?? source.name) : null,
      minRam: label['min-ram'],
      flavorName: label['flavor-name'],
      networks,
      autoFloatingIp: poolRaw['auto-floating-ip'] !== false,
      bootFromVolume: label['boot-from-volume'],
      volumeSize: label['volume-size'],
      metadata: this.metadataFor(label, source.name),
      dynamicProperties: label['dynamic-instance-properties'] ?? {},
      loadRequest: async () => (request.requestId ? this.context.zk.getNodeRequest(request.requestId) : undefined),
      defaultNetwork: this.cloud?.defaultNetwork ?? null,
      privateCloud: this.cloud?.private ?? false,
      cloudNetworks: this.cloud?.networks,
    };
    return new OpenstackCreateStateMachine(ctx, request, log);
  }

  /** `groups` then instance properties (§5.2); dynamic properties are added by the machine. */
  private metadataFor(label: OpenstackLabel, imageName: string): Record<string, string> {
    const md: Record<string, string> = { groups: `${this.name},${imageName},${label.name}` };
    for (const [k, v] of Object.entries(label['instance-properties'] ?? {})) md[k] = typeof v === 'string' ? v : pythonStr(v);
    return md;
  }

  /** Images a Nodepool builder uploaded: tagged `nodepool_build_id` (Nodepool's alien-image-list). */
  async listManagedImages(): Promise<{ id: string; name: string }[]> {
    this.resources.images.clear();
    return (await this.resources.images.get())
      .filter((i) => i.nodepool_build_id !== undefined || (i.properties !== undefined && 'nodepool_build_id' in i.properties))
      .map((i) => ({ id: i.id, name: i.name }));
  }

  /** A launch stored while its server existed goes on waiting for that server. */
  resumeCreateStateMachine(node: Node, saved: NodeLaunchRecord, log: Logger): StateMachine | undefined {
    if (!RESUMABLE_CREATE_STATES.has(saved.machine_state) || !node.id || !node.pool || !node.type[0]) return undefined;
    const machine = this.getCreateStateMachine({
      hostname: `np${node.id}`, label: node.type[0], pool: node.pool, imageExternalId: null,
      metadata: leakTags(node.id, node.pool, this.name), nodeId: node.id, requestId: node.allocated_to, az: node.az,
    }, log) as OpenstackCreateStateMachine;
    return machine.resumeAt(saved.external_id);
  }

  /** Deleting again what a dead launcher left half deleted only deletes the server again. */
  getDeleteStateMachine(externalId: unknown, log: Logger): StateMachine {
    return new OpenstackDeleteStateMachine(this.resources, externalId, log);
  }

  /**
   * Quota of a listed server: its flavor (embedded from microversion 2.47, else looked up by id)
   * plus its attached volumes (§5.7).
   */
  private serverQuota(server: Server, flavors: Flavor[], volumes: Volume[]): QuotaInformation {
    const f = server.flavor;
    const flavor = f?.vcpus !== undefined && f.ram !== undefined ? { vcpus: f.vcpus, ram: f.ram } : flavors.find((fl) => fl.id === f?.id);
    const q: Record<string, number> = flavor ? { instances: 1, cores: flavor.vcpus, ram: flavor.ram } : { instances: 1 };
    const attached = server['os-extended-volumes:volumes_attached'] ?? [];
    if (attached.length > 0) {
      q.volumes = attached.length;
      q['volume-gb'] = attached.reduce((sum, a) => sum + (volumes.find((v) => v.id === a.id)?.size ?? 0), 0);
    }
    return new QuotaInformation(q);
  }

  /**
   * Servers tagged with this provider's name (not DELETED), for the engine's leak detection.
   * Servers of others are never returned, so they can never be deleted as leaks.
   */
  async listInstances(): Promise<Instance[]> {
    const [servers, flavors, volumes] = await Promise.all([this.resources.servers.get(), this.resources.flavors.get(), this.resources.volumes.get()]);
    return servers
      .filter((s) => s.status !== 'DELETED' && s.metadata?.nodepool_provider_name === this.name)
      .map((s) => instanceOf(s, this.cloud?.name ?? null, this.cloud?.regionName ?? null, this.serverQuota(s, flavors, volumes), this.cloud?.defaultNetwork, this.cloud?.private, this.cloud?.networks));
  }

  /**
   * Leaked non-server resources (§5.6): ports DOWN (unowned or `compute:*`) since at least
   * `port-cleanup-interval`, and, with `clean-floating-ips`, floating IPs bound to no port. They
   * belong to no node, so they carry this provider's name and an empty node id, which no node has:
   * the engine's leak rule (ours, node unknown, seen twice) then applies to them.
   */
  async listResources(): Promise<Resource[]> {
    const client = this.resources.client;
    const tag = { nodepool_provider_name: this.name, nodepool_node_id: '' };
    const out: Resource[] = [];
    const interval = (this.config.raw['port-cleanup-interval'] as number) * 1000;
    if (interval > 0) {
      const now = Date.now();
      const down = (await client.listPorts({ status: 'DOWN' })).filter((p) => !p.device_owner || p.device_owner.startsWith('compute:'));
      const ids = new Set(down.map((p) => p.id));
      for (const id of this.downPorts.keys()) if (!ids.has(id)) this.downPorts.delete(id);
      for (const p of down) {
        const since = this.downPorts.get(p.id);
        if (since === undefined) this.downPorts.set(p.id, now);
        else if (now - since >= interval) out.push({ type: 'port', id: p.id, metadata: tag });
      }
    }
    if (this.config.raw['clean-floating-ips'] === true) {
      for (const f of await client.listFloatingIps()) if (!f.port_id) out.push({ type: 'floatingip', id: f.id, metadata: tag });
    }
    return out;
  }

  async deleteResource(resource: Resource): Promise<void> {
    const client = this.resources.client;
    try {
      if (resource.type === 'port') await client.deletePort(resource.id);
      else if (resource.type === 'floatingip') await client.deleteFloatingIp(resource.id);
      else throw new Error(`unknown resource type ${resource.type}`);
      this.log.info('deleted leaked resource', { type: resource.type, id: resource.id });
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof NotFoundError)) throw err;
    }
    if (resource.type === 'port') this.downPorts.delete(resource.id);
  }

  /** With the label's `console-log`, logs the server console to help see why it is unreachable. */
  async nodescanFailed(node: Node, label: string, pool: PoolConfig, log: Logger): Promise<void> {
    if (!labelOf(pool, label)['console-log'] || node.external_id === null) return;
    const output = await this.resources.client.consoleLog(String(node.external_id));
    log.info('console log of the unreachable server', { external_id: node.external_id, hostname: `np${String(node.id)}`, console: output });
  }

  async cleanup(): Promise<void> {
    await this.refreshUploads();
  }

  /**
   * Nova (and, when the cloud has block storage, Cinder) limits (−1 = unlimited) minus what servers
   * not tagged with this provider's name use. Servers tagged as ours but unknown to ZooKeeper are
   * leaks; the engine deletes them.
   */
  async getQuotaLimits(): Promise<QuotaInformation> {
    const r = this.resources;
    const [limits, volumeLimits, servers, flavors, volumes] = await Promise.all([
      r.limits.get(), r.volumeLimits.get(), r.servers.get(), r.flavors.get(), r.volumes.get(),
    ]);
    const lim = (v: number): number => (v < 0 ? Infinity : v);
    const values: Record<string, number> = { instances: lim(limits.maxTotalInstances), cores: lim(limits.maxTotalCores), ram: lim(limits.maxTotalRAMSize) };
    if (volumeLimits) Object.assign(values, { volumes: lim(volumeLimits.maxTotalVolumes), 'volume-gb': lim(volumeLimits.maxTotalVolumeGigabytes) });
    let q = new QuotaInformation(values, Infinity);
    for (const s of servers) {
      if (s.status === 'DELETED' || s.metadata?.nodepool_provider_name === this.name) continue;
      q = q.subtract(this.serverQuota(s, flavors, volumes));
    }
    return q;
  }

  quotaNeededByLabel(label: string, pool: PoolConfig): QuotaInformation {
    const l = labelOf(pool, label);
    const flavor = this.res?.cachedFlavorFor(l['min-ram'], l['flavor-name']);
    return flavor ? flavorQuota(flavor, l['boot-from-volume'], l['volume-size']) : new QuotaInformation({ instances: 1 });
  }

  async getAvailabilityZones(): Promise<string[]> {
    return this.resources.zones.get();
  }
}

/**
 * Labels Nodepool's launcher loads but can never serve (its config-validate rejects or ignores
 * them): without an image, or with a diskimage the provider does not upload. One warning each.
 */
export function unservableLabels(config: ProviderConfig): string[] {
  const provided = new Set(((config.raw.diskimages ?? []) as { name: string }[]).map((d) => d.name));
  const out: string[] = [];
  config.pools.forEach((pool, p) => {
    ((pool.raw as unknown as OpenstackPool).labels ?? []).forEach((l, i) => {
      const at = `providers ${config.name} pools[${p}].labels[${i}]`;
      if (!l.diskimage && !l['cloud-image']) out.push(`${at}: label ${l.name} has neither diskimage nor cloud-image: it is never ready`);
      else if (l.diskimage && !provided.has(l.diskimage)) out.push(`${at}: label ${l.name} uses diskimage ${l.diskimage}, which is not in the provider's diskimages: it is never ready`);
    });
  });
  return out;
}
