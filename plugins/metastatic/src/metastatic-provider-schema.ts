/**
 * Configuration schema of the metastatic driver (spec drivers-config §3.1). The kernel adds the
 * common provider keys (`name`, `driver`, `max-concurrency`, `priority`) and pool keys (`name`,
 * `max-servers`, `node-attributes`, `priority`).
 */
import { s, type NodepoolConfig, type ObjectSchema, type ProviderConfig } from '@nodepool-ts/sdk';

/** A metastatic label after validation, defaults filled (`host-key-checking` from the pool). */
export interface MetastaticLabelConfig {
  name: string;
  'backing-label': string;
  'max-parallel-jobs': number;
  'grace-time': number;
  'min-retention-time': number;
  /** Seconds since launch after which a backing node takes no new slots; null = no limit. */
  'max-age': number | null;
  'host-key-checking': boolean;
}

const label = s.object({
  name: s.str().required(),
  'backing-label': s.str().required(),
  'max-parallel-jobs': s.int().default(1),
  'grace-time': s.int().default(60),
  'min-retention-time': s.int().default(0),
  'max-age': s.int().nullable().default(null),
  // No default: absent means "the pool's value", filled in by the pool transform below.
  'host-key-checking': s.bool(),
});

const pool = s
  .object({
    labels: s.list(label).required(),
    'host-key-checking': s.bool().default(false),
  })
  .transform((p) => {
    const hkc = p['host-key-checking'];
    p.labels = (p.labels as Record<string, unknown>[]).map((l) => ({ ...l, 'host-key-checking': l['host-key-checking'] ?? hkc }));
    return p;
  });

/**
 * Schema of a metastatic provider section. `rate` is not accepted (Nodepool reads it but its
 * schema rejects it, spec §3.1); `boot-timeout` defaults to 120 as in Nodepool's code (its docs
 * say 60).
 */
export const metastaticProviderSchema: ObjectSchema = s.object({
  pools: s.list(pool).required(),
  'boot-timeout': s.int().default(120),
  'launch-timeout': s.int().default(3600),
  'launch-retries': s.int().default(3),
});

/** The labels of a validated metastatic pool section. */
export function metastaticPoolLabelConfigs(pool: Record<string, unknown>): MetastaticLabelConfig[] {
  return (pool.labels ?? []) as MetastaticLabelConfig[];
}

/** Labels a validated metastatic pool serves. */
export function metastaticPoolLabels(pool: Record<string, unknown>): string[] {
  return metastaticPoolLabelConfigs(pool).map((l) => l.name);
}

const BACKING_KEYS = ['max-parallel-jobs', 'grace-time', 'min-retention-time', 'max-age'] as const;

/**
 * Load-time checks of spec §1.7: labels sharing a backing label must agree on the backing-node
 * parameters, and `max-age` (when set) must not be below `min-retention-time`.
 */
export function metastaticCrossCheck(provider: ProviderConfig, _config: NodepoolConfig): string[] {
  const errors: string[] = [];
  const first = new Map<string, { label: MetastaticLabelConfig; at: string }>();
  provider.pools.forEach((pool, p) => {
    metastaticPoolLabelConfigs(pool.raw).forEach((l, i) => {
      const at = `pools[${p}].labels[${i}]`;
      const earlier = first.get(l['backing-label']);
      if (!earlier) first.set(l['backing-label'], { label: l, at });
      else if (BACKING_KEYS.some((k) => earlier.label[k] !== l[k])) {
        errors.push(
          `${at}.backing-label: Multiple label definitions for the same backing label must be identical ` +
            `(${BACKING_KEYS.join(', ')} of label ${l.name} differ from label ${earlier.label.name} at ${earlier.at})`,
        );
      }
      if (l['max-age'] !== null && l['max-age'] < l['min-retention-time']) {
        errors.push(`${at}.max-age: The max_age must be greater than or equal to the min_retention_time`);
      }
    });
  });
  return errors;
}
