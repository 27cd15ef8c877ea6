/**
 * Typed views of a validated OpenStack provider section (see openstack-provider-schema.ts) and the
 * per-label settings the engine launches with (spec drivers-config §4, §5.1).
 */
import type { NodeLaunchSettings, NodepoolConfig, PoolConfig, ProviderConfig } from '@nodepool-ts/sdk';

/** A label of an OpenStack pool, defaults filled. */
export interface OpenstackLabel {
  name: string;
  diskimage?: string;
  'cloud-image'?: string;
  'min-ram'?: number;
  'flavor-name'?: string;
  'key-name'?: string;
  'console-log': boolean;
  'boot-from-volume': boolean;
  'volume-size': number;
  'instance-properties': Record<string, unknown>;
  'dynamic-instance-properties': Record<string, string>;
  userdata?: string;
  networks: string[];
  'host-key-checking': boolean;
}

/** A provider `cloud-images` entry. */
export interface OpenstackCloudImage {
  name: string;
  'image-id'?: string;
  'image-name'?: string;
  username: string | null;
  'python-path': string;
  'shell-type': string | null;
  'config-drive': boolean | null;
  'connection-type': string;
  'connection-port': number;
}

/** A provider `diskimages` entry. */
export interface OpenstackDiskImage {
  name: string;
  pause: boolean;
  meta: Record<string, unknown>;
  'config-drive': boolean | null;
  'connection-type': string;
  'connection-port': number;
}

/** The pool keys the driver reads. */
export interface OpenstackPool {
  labels: OpenstackLabel[];
  'availability-zones': string[];
  'security-groups': string[];
  'auto-floating-ip': boolean;
}

/** The label `name` of `pool`; throws when the pool does not serve it. */
export function labelOf(pool: PoolConfig, name: string): OpenstackLabel {
  const label = (pool.raw as unknown as OpenstackPool).labels?.find((l) => l.name === name);
  if (!label) throw new Error(`pool ${pool.name} has no label ${name}`);
  return label;
}

/** The provider `cloud-images` entry named `name`. */
export function cloudImageOf(provider: ProviderConfig, name: string): OpenstackCloudImage | undefined {
  return ((provider.raw['cloud-images'] ?? []) as OpenstackCloudImage[]).find((c) => c.name === name);
}

/** The provider `diskimages` entry named `name`. */
export function diskImageOf(provider: ProviderConfig, name: string): OpenstackDiskImage | undefined {
  return ((provider.raw.diskimages ?? []) as OpenstackDiskImage[]).find((d) => d.name === name);
}

/** What a label boots from: a cloud image (looked up by id or name) or a diskimage upload. */
export type ImageSource = { kind: 'cloud'; id: string | null; name: string } | { kind: 'diskimage'; name: string };

/** The image source of a label (`image-id`, else `image-name`, else the cloud-image `name`). */
export function imageSourceOf(provider: ProviderConfig, label: OpenstackLabel): ImageSource {
  if (label.diskimage) return { kind: 'diskimage', name: label.diskimage };
  const ci = cloudImageOf(provider, label['cloud-image'] ?? '');
  if (!ci) throw new Error(`cloud-image ${String(label['cloud-image'])} is not defined in provider ${provider.name}`);
  return ci['image-id'] ? { kind: 'cloud', id: ci['image-id'], name: ci.name } : { kind: 'cloud', id: null, name: ci['image-name'] ?? ci.name };
}

/** Config drive setting of the label's image (null = cloud default). */
export function configDriveOf(provider: ProviderConfig, label: OpenstackLabel): boolean | null {
  if (label.diskimage) return diskImageOf(provider, label.diskimage)?.['config-drive'] ?? null;
  return cloudImageOf(provider, label['cloud-image'] ?? '')?.['config-drive'] ?? null;
}

/** A ready diskimage upload, as the provider knows it from ZooKeeper. */
export interface ReadyUpload {
  /** Upload znode path (`node.image_id`). */
  path: string;
  /** Cloud image id. */
  externalId: string;
}

/**
 * Launch settings of a label (spec §4): attempts and timeouts from the provider, host-key-checking
 * from the label (already merged with the pool's), connection defaults from the cloud-image or the
 * diskimage (top-level username/python-path/shell-type, provider connection type/port).
 */
export function launchSettingsOf(
  provider: ProviderConfig,
  config: NodepoolConfig | undefined,
  label: OpenstackLabel,
  upload: ReadyUpload | undefined,
): NodeLaunchSettings {
  const raw = provider.raw;
  const base = {
    launchRetries: raw['launch-retries'] as number,
    launchTimeout: raw['launch-timeout'] as number,
    bootTimeout: raw['boot-timeout'] as number,
    hostKeyChecking: label['host-key-checking'],
  };
  if (label.diskimage) {
    const provImage = diskImageOf(provider, label.diskimage);
    const top = config?.diskimages.get(label.diskimage);
    return {
      ...base,
      connectionType: provImage?.['connection-type'] ?? 'ssh',
      connectionPort: provImage?.['connection-port'] ?? 22,
      username: top?.username ?? 'zuul',
      pythonPath: top?.['python-path'] ?? 'auto',
      shellType: top?.['shell-type'] ?? null,
      imageId: upload?.path ?? null,
      imageExternalId: upload?.externalId ?? null,
    };
  }
  const ci = cloudImageOf(provider, label['cloud-image'] ?? '');
  return {
    ...base,
    connectionType: ci?.['connection-type'] ?? 'ssh',
    connectionPort: ci?.['connection-port'] ?? 22,
    username: ci?.username ?? null,
    pythonPath: ci?.['python-path'] ?? 'auto',
    shellType: ci?.['shell-type'] ?? null,
    imageId: ci?.name ?? null,
    imageExternalId: ci?.['image-id'] ?? null,
  };
}
