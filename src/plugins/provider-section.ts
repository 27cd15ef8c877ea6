/**
 * What the kernel does with one `providers:` entry of nodepool.yaml, exposed so that plugin
 * authors can test their schemas exactly as the kernel will apply them.
 */
import { isObjectSchema, s, type ObjectFields, type ObjectSchema } from './config-schema';
import { validate, type ConfigIssue } from './config-validation';
import type { ProviderDriver } from './driver';
import type { PoolConfig, ProviderConfig } from './nodepool-config';

type Raw = Record<string, unknown>;

/**
 * Keys every provider section has, whatever its driver. `driver`
 * defaults to `openstack`; `max-concurrency` -1 = unlimited, 0 = the provider accepts no
 * requests at all (Nodepool's docs wrongly say 0 = no limit).
 */
export const COMMON_PROVIDER_FIELDS: ObjectFields = {
  name: s.str().required(),
  driver: s.str().default('openstack'),
  'max-concurrency': s.int().default(-1),
  priority: s.int(),
};

/**
 * Keys every pool has. `max-servers` unset = unlimited, `<= 0` = every request is
 * declined; `node-attributes` are copied into each node's `attributes`; the effective priority is
 * the pool's, else the provider's, else 100 (lower wins).
 */
export const COMMON_POOL_FIELDS: ObjectFields = {
  name: s.str().required(),
  'max-servers': s.int(),
  'node-attributes': s.dict(),
  priority: s.int(),
};

/**
 * A driver's provider schema as the kernel applies it: with {@link COMMON_PROVIDER_FIELDS}, and
 * with {@link COMMON_POOL_FIELDS} added to the item schema of its `pools` list (a `pools` list of
 * bare pools is added when the driver declares none). Common keys replace same-named driver keys,
 * so they mean the same for every driver; `pools` keeps the driver's modifiers (required, default).
 */
export function withCommonKeys(driverSchema: ObjectSchema): ObjectSchema {
  const pools = driverSchema.fields.pools;
  let poolsField = pools;
  if (pools === undefined) {
    poolsField = s.list(s.object(COMMON_POOL_FIELDS)).default([]);
  } else if (pools.kind === 'list') {
    const list = pools as ReturnType<typeof s.list>;
    poolsField = list.withItem(isObjectSchema(list.item) ? list.item.extend(COMMON_POOL_FIELDS) : s.object(COMMON_POOL_FIELDS));
  }
  return driverSchema.extend({ ...COMMON_PROVIDER_FIELDS, pools: poolsField });
}

/** The parts of a driver {@link validateProviderSection} uses. */
export type ProviderSectionDriver = Pick<ProviderDriver, 'name' | 'providerSchema' | 'poolLabels'>;

/** What {@link validateProviderSection} returns. */
export interface ProviderSectionResult {
  /**
   * The normalized provider; undefined when there are issues (with `ignoreUnknownKeys`: issues
   * other than unknown keys).
   */
  config?: ProviderConfig;
  /** Problems, with paths from the document root (`providers[2].pools[0].name`). */
  issues: ConfigIssue[];
}

/** The message of an unknown key (what Nodepool's validator says too). */
export const UNKNOWN_KEY_MESSAGE = 'extra keys not allowed';

/** Options of {@link validateProviderSection}. */
export interface ProviderSectionOptions {
  /**
   * Build the provider even when the section has keys its schema does not know, leaving them
   * out (still returned as issues). Nodepool's launcher never validates the schema, so a key
   * only `nodepool config-validate` rejects (e.g. `rate` on a metastatic provider) runs there.
   */
  ignoreUnknownKeys?: boolean;
}

function toPool(raw: Raw, providerPriority: number | null, driver: ProviderSectionDriver): PoolConfig {
  return {
    name: raw.name as string,
    maxServers: (raw['max-servers'] as number | undefined) ?? Infinity,
    priority: (raw.priority as number | undefined) ?? providerPriority ?? 100,
    nodeAttributes: (raw['node-attributes'] as Raw | undefined) ?? null,
    labels: [...new Set(driver.poolLabels(raw))],
    raw,
  };
}

/**
 * Validates one `providers` entry against `withCommonKeys(driver.providerSchema)` and normalizes
 * it into a {@link ProviderConfig} (pool labels from `driver.poolLabels`). Pool names must be
 * unique within the provider. Cross checks against the rest of the configuration are not run.
 *
 * @param driver the entry's driver
 * @param raw the entry as parsed (by `parseConfigYaml`)
 * @param index its position in the `providers` list, for key paths
 * @param file the file it is in, for {@link ProviderConfig.location}
 * @param schema the extended schema, when the caller has it already
 * @param options see {@link ProviderSectionOptions}
 */
export function validateProviderSection(
  driver: ProviderSectionDriver,
  raw: unknown,
  index: number,
  file: string,
  schema: ObjectSchema = withCommonKeys(driver.providerSchema),
  options: ProviderSectionOptions = {},
): ProviderSectionResult {
  const at = `providers[${index}]`;
  const result = validate<Raw>(schema, raw, at);
  const tolerated = options.ignoreUnknownKeys ? result.issues.filter((i) => i.message === UNKNOWN_KEY_MESSAGE || i.runtimeOptional) : [];
  if (result.issues.length > tolerated.length) return { issues: result.issues };
  const value = result.value;
  const priority = (value.priority as number | undefined) ?? null;
  let pools: PoolConfig[];
  try {
    pools = (value.pools as Raw[]).map((pool) => toPool(pool, priority, driver));
  } catch (err) {
    return { issues: [{ path: at, message: `driver "${driver.name}" failed to read the pool labels: ${(err as Error).message}` }] };
  }
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  pools.forEach((pool, p) => {
    if (seen.has(pool.name)) issues.push({ path: `${at}.pools[${p}].name`, message: `pool ${pool.name} already defined in provider ${value.name}` });
    seen.add(pool.name);
  });
  if (issues.length > 0) return { issues: [...tolerated, ...issues] };
  const config: ProviderConfig = {
    name: value.name as string,
    driver: driver.name,
    maxConcurrency: value['max-concurrency'] as number,
    priority,
    pools,
    raw: value,
    location: `${file}: ${at}`,
  };
  return { config, issues: tolerated };
}
