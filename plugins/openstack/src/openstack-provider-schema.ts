/**
 * Configuration schema of the OpenStack driver (spec drivers-config §5.1). The kernel adds the
 * common provider keys (`name`, `driver`, `max-concurrency`, `priority`) and pool keys (`name`,
 * `max-servers`, `node-attributes`, `priority`).
 */
import { s, type NodepoolConfig, type ObjectFields, type ObjectSchema, type ProviderConfig } from '@nodepool-ts/sdk';

/** The connection port Nodepool assumes for a connection type when none is configured. */
function defaultPort(connectionType: unknown): number {
  return connectionType === 'winrm' ? 5986 : 22;
}

const connectionKeys: ObjectFields = {
  'config-drive': s.bool().nullable().default(null),
  'connection-type': s.str().default('ssh'),
  // No default: it depends on the connection type (filled by the transform).
  'connection-port': s.int(),
};

const withConnectionPort = (v: Record<string, unknown>): Record<string, unknown> => ({
  ...v,
  'connection-port': v['connection-port'] ?? defaultPort(v['connection-type']),
});

const providerDiskimage = s
  .object({ name: s.str().required(), pause: s.bool().default(false), meta: s.dict().default({}), ...connectionKeys })
  .transform(withConnectionPort);

/** The image looked up is `image-id`, else `image-name`, else `name`. */
const cloudImage = s
  .object({
    name: s.str().required(),
    'image-id': s.str(),
    'image-name': s.str(),
    username: s.str().nullable().default(null),
    'python-path': s.str().default('auto'),
    'shell-type': s.str().nullable().default(null),
    ...connectionKeys,
  })
  .exclusive('image-id', 'image-name')
  .transform(withConnectionPort);

const label = s
  .object({
    name: s.str().required(),
    diskimage: s.str(),
    'cloud-image': s.str(),
    'min-ram': s.int(),
    'flavor-name': s.str(),
    'key-name': s.str(),
    'console-log': s.bool().default(false),
    'boot-from-volume': s.bool().default(false),
    'volume-size': s.int().default(50),
    'instance-properties': s.dict().default({}),
    'dynamic-instance-properties': s.dict(s.str()).default({}),
    userdata: s.str(),
    // Absent = the pool's value (filled by the pool transform).
    networks: s.list(s.str()),
    'host-key-checking': s.bool(),
  })
  .exactlyOne('diskimage', 'cloud-image')
  .atLeastOne('min-ram', 'flavor-name')
  // Nodepool's launcher loads such a label (never ready without an image; its launches fail
  // without a flavor); only its config-validate insists.
  .groupsRequiredByValidatorOnly();

/** `max-cores`, `max-ram`, `max-volumes`, `max-volume-gb`: absent = unlimited. */
const pool = s
  .object({
    labels: s.list(label).default([]),
    'max-cores': s.int(),
    'max-ram': s.int(),
    'max-volumes': s.int(),
    'max-volume-gb': s.int(),
    'ignore-provider-quota': s.bool().default(false),
    'availability-zones': s.list(s.str()).default([]),
    networks: s.list(s.str()).default([]),
    'security-groups': s.list(s.str()).default([]),
    'auto-floating-ip': s.bool().default(true),
    'host-key-checking': s.bool().default(true),
  })
  .transform((p) => {
    p.labels = (p.labels as Record<string, unknown>[]).map((l) => ({
      ...l,
      networks: l.networks ?? p.networks,
      'host-key-checking': l['host-key-checking'] ?? p['host-key-checking'],
    }));
    return p;
  });

/**
 * Schema of an OpenStack provider section. `clean-floating-ips` defaults to false as in
 * Nodepool's code (its docs say true). `nodepool-id` is deprecated and ignored. `rate` takes an
 * int or a float (Nodepool coerces it).
 */
export const openstackProviderSchema: ObjectSchema = s.object({
  // Nodepool's validator requires it; its launcher runs without it on openstacksdk's default cloud
  // (OS_CLOUD, OS_* variables, the only clouds.yaml entry).
  cloud: s.str().required({ runtime: false }),
  'region-name': s.str().nullable().default(null),
  rate: s.number().default(1),
  'boot-timeout': s.int().default(60),
  'launch-timeout': s.int().default(3600),
  'launch-retries': s.int().default(3),
  'image-upload-timeout': s.int().default(3600),
  'image-name-format': s.str().default('{image_name}-{timestamp}'),
  'post-upload-hook': s.str(),
  'clean-floating-ips': s.bool().default(false),
  'port-cleanup-interval': s.int().default(600),
  'nodepool-id': s.str(),
  diskimages: s.list(providerDiskimage).default([]),
  'cloud-images': s.list(cloudImage).default([]),
  pools: s.list(pool).default([]),
});

/** Labels a validated OpenStack pool serves. */
export function openstackPoolLabels(pool: Record<string, unknown>): string[] {
  return ((pool.labels ?? []) as { name: string }[]).map((l) => l.name);
}

type Named = { name: string };

/**
 * Load-time checks (spec §1.7, §1.8): provider diskimages must exist in the top-level
 * `diskimages`; a label's `diskimage` must exist there; a label's `cloud-image` must name one of
 * the provider's `cloud-images`. A label's `diskimage` missing from the provider's `diskimages`
 * is accepted, as by Nodepool's validator and launcher: no builder uploads it to this provider,
 * so the label is never ready (the provider warns when it starts).
 */
export function openstackCrossCheck(provider: ProviderConfig, config: NodepoolConfig): string[] {
  const errors: string[] = [];
  const raw = provider.raw;
  const cloudImages = new Set(((raw['cloud-images'] ?? []) as Named[]).map((c) => c.name));
  ((raw.diskimages ?? []) as Named[]).forEach((d, i) => {
    if (!config.diskimages.has(d.name)) {
      errors.push(`diskimages[${i}].name: diskimage ${d.name} in provider ${provider.name} is not defined in the main diskimages list`);
    }
  });
  provider.pools.forEach((pool, p) => {
    ((pool.raw.labels ?? []) as Record<string, string | undefined>[]).forEach((l, i) => {
      const at = `pools[${p}].labels[${i}]`;
      const image = l.diskimage;
      if (image !== undefined && !config.diskimages.has(image)) {
        errors.push(`${at}.diskimage: label ${l.name} in provider ${provider.name} uses diskimage ${image} which is not defined in the main diskimages list`);
      }
      const cloudImage = l['cloud-image'];
      if (cloudImage !== undefined && !cloudImages.has(cloudImage)) {
        // Nodepool names the pool where it means the provider (openstack/config.py:136-141).
        errors.push(`${at}.cloud-image: cloud-image ${cloudImage} does not exist in provider ${provider.name} but is referenced in label ${l.name}`);
      }
    });
  });
  return errors;
}
