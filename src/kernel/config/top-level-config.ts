import type { LabelConfig, NodepoolConfig, TenantLimits, ZooKeeperServerConfig } from '../../plugins/nodepool-config';
import { configError, type ConfigError } from './config-error';
import { resolveDiskimages } from './diskimage-inheritance';

type Raw = Record<string, unknown>;

/** The parts of {@link NodepoolConfig} that come from outside the provider sections. */
export type TopLevelConfig = Omit<NodepoolConfig, 'file' | 'secureFile' | 'providers'>;

/** `tenant-resource-limits` keys and the resource names they limit (spec §1.6). */
const TENANT_RESOURCES: Readonly<Record<string, string>> = {
  'max-servers': 'instances',
  'max-cores': 'cores',
  'max-ram': 'ram',
  'max-volumes': 'volumes',
  'max-volume-gb': 'volume-gb',
};

function list(value: unknown): Raw[] {
  return Array.isArray(value) ? (value as Raw[]) : [];
}

function labels(entries: Raw[], file: string, errors: ConfigError[]): Map<string, LabelConfig> {
  const out = new Map<string, LabelConfig>();
  entries.forEach((label, i) => {
    if (typeof label?.name !== 'string') return;
    // Nodepool keeps the last of two same-named labels silently; one of them is a mistake.
    if (out.has(label.name)) errors.push(configError(file, 'check', `labels[${i}].name`, `label ${label.name} already defined`));
    else out.set(label.name, label as unknown as LabelConfig);
  });
  return out;
}

function tenantLimits(entries: Raw[], file: string, errors: ConfigError[]): Map<string, TenantLimits> {
  const out = new Map<string, TenantLimits>();
  entries.forEach((entry, i) => {
    const tenantName = entry?.['tenant-name'];
    if (typeof tenantName !== 'string') return;
    if (out.has(tenantName)) {
      errors.push(configError(file, 'check', `tenant-resource-limits[${i}].tenant-name`, `tenant ${tenantName} already defined`));
      return;
    }
    // Unset standard limits are unlimited; other keys are custom resources, passed through.
    const limits: Record<string, number> = Object.fromEntries(Object.values(TENANT_RESOURCES).map((r) => [r, Infinity]));
    for (const [key, value] of Object.entries(entry)) {
      if (key !== 'tenant-name' && typeof value === 'number') limits[TENANT_RESOURCES[key] ?? key] = value;
    }
    out.set(tenantName, { tenantName, limits });
  });
  return out;
}

/** Normalizes a `zookeeper-servers` list (validated entries). */
export function zookeeperServers(entries: unknown): ZooKeeperServerConfig[] {
  return list(entries)
    .filter((e) => typeof e?.host === 'string')
    .map((e) => ({ host: e.host as string, port: (e.port as number) ?? 2281, chroot: (e.chroot as string | null) ?? null }));
}

/** Normalizes a `zookeeper-tls` section (validated), or null when absent or incomplete. */
export function zookeeperTls(value: unknown): NodepoolConfig['zookeeperTls'] {
  const tls = value as Raw | undefined;
  if (!tls || typeof tls.cert !== 'string' || typeof tls.key !== 'string' || typeof tls.ca !== 'string') return null;
  return { cert: tls.cert, key: tls.key, ca: tls.ca };
}

/**
 * Builds the non-provider parts of the configuration from the top level as validated by
 * `topLevelSchema` (best effort: entries the schema found broken are skipped), and reports
 * duplicate names and diskimage inheritance problems.
 */
export function buildTopLevel(value: Raw, file: string): { config: TopLevelConfig; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const images = resolveDiskimages(list(value.diskimages), file);
  errors.push(...images.errors);
  const webapp = (value.webapp ?? {}) as Raw;
  const maxHoldAge = value['max-hold-age'];
  const config: TopLevelConfig = {
    labels: labels(list(value.labels), file, errors),
    diskimages: images.images,
    tenantLimits: tenantLimits(list(value['tenant-resource-limits']), file, errors),
    // Unset, null or <= 0 all mean "hold forever" (config.py:153-156).
    maxHoldAge: typeof maxHoldAge === 'number' && maxHoldAge > 0 ? maxHoldAge : Infinity,
    webapp: { port: (webapp.port as number) ?? 8005, listenAddress: (webapp.listen_address as string) ?? '0.0.0.0' },
    zookeeperServers: zookeeperServers(value['zookeeper-servers']),
    zookeeperTls: zookeeperTls(value['zookeeper-tls']),
    zookeeperTimeout: typeof value['zookeeper-timeout'] === 'number' ? value['zookeeper-timeout'] : 10,
  };
  return { config, errors };
}
