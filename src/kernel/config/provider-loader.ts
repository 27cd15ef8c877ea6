import type { ProviderDriver } from '../../plugins/driver';
import { isObjectSchema, type ObjectSchema } from '../../plugins/config-schema';
import { validateProviderSection, withCommonKeys } from '../../plugins/provider-section';
import type { ProviderConfig } from '../../plugins/nodepool-config';
import { configError, configErrors, type ConfigError } from './config-error';

/** A provider section that passed its driver's schema. */
export interface LoadedProvider {
  /** Position in the `providers` list, for key paths. */
  index: number;
  driver: ProviderDriver;
  config: ProviderConfig;
}

/**
 * Validates each `providers` entry (as parsed, floats still boxed) against its driver's schema
 * extended with the common keys, and normalizes it. A broken entry is reported and left out;
 * the others load. Names must be unique: a second provider of the same name is left out.
 * `runtime` (the launcher, not config-validate): unknown keys are reported but do not keep a
 * provider from loading.
 */
export function loadProviders(
  rawProviders: unknown,
  drivers: readonly ProviderDriver[],
  file: string,
  runtime = false,
): { providers: LoadedProvider[]; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const providers: LoadedProvider[] = [];
  if (!Array.isArray(rawProviders)) return { providers, errors }; // reported by the top-level schema
  const byName = new Map(drivers.map((d) => [d.name, d]));
  const schemas = new Map<ProviderDriver, ObjectSchema>();
  const names = new Set<string>();
  rawProviders.forEach((raw: unknown, index) => {
    const at = `providers[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push(configError(file, 'schema', at, 'expected a dictionary'));
      return;
    }
    const driverName = (raw as Record<string, unknown>).driver ?? 'openstack';
    if (typeof driverName !== 'string') {
      errors.push(configError(file, 'schema', `${at}.driver`, 'expected str'));
      return;
    }
    const driver = byName.get(driverName);
    if (!driver) {
      errors.push(configError(file, 'schema', `${at}.driver`, `unknown driver "${driverName}"`));
      return;
    }
    if (!isObjectSchema(driver.providerSchema)) {
      errors.push(configError(file, 'schema', `${at}.driver`, `driver "${driverName}" has no provider schema built with the SDK's s.object()`));
      return;
    }
    let schema = schemas.get(driver);
    if (!schema) schemas.set(driver, (schema = withCommonKeys(driver.providerSchema)));
    const result = validateProviderSection(driver, raw, index, file, schema, { ignoreUnknownKeys: runtime });
    if (!result.config) {
      errors.push(...configErrors(file, 'schema', result.issues));
      return;
    }
    // Runtime: the provider runs without its unknown keys, as on Nodepool's launcher.
    for (const issue of result.issues) {
      errors.push({ ...configError(file, 'schema', issue.path, `${issue.message} (ignored: the provider runs without it)`), severity: 'warning' });
    }
    if (names.has(result.config.name)) {
      errors.push(configError(file, 'check', `${at}.name`, `provider ${result.config.name} already defined`));
      return;
    }
    names.add(result.config.name);
    providers.push({ index, driver, config: result.config });
  });
  return { providers, errors };
}
