import type { NodepoolConfig } from '../../plugins/nodepool-config';
import { s } from '../../plugins/config-schema';
import { validate } from '../../plugins/config-validation';
import { configError, configErrors, type ConfigError } from './config-error';
import { zookeeperServerSchema, zookeeperTlsSchema } from './top-level-schema';
import { zookeeperServers, zookeeperTls } from './top-level-config';

type Raw = Record<string, unknown>;

/**
 * The secure file's keys. Open at the top and per image, because Nodepool ignores whatever else
 * a secure file holds (it may be shared with the builder); the keys it uses are type-checked.
 */
const secureSchema = s
  .object({
    'zookeeper-servers': s.list(zookeeperServerSchema),
    'zookeeper-tls': zookeeperTlsSchema,
    diskimages: s.list(s.object({ name: s.str().required(), 'env-vars': s.dict(s.str()).default({}) }).open()),
  })
  .open();

/**
 * Merges the secure file into `config` (spec §1.1 step 4): an empty file changes nothing; a
 * non-empty `zookeeper-servers` list replaces the main file's; `zookeeper-tls` replaces the main
 * file's; `diskimages[].env-vars` are merged into the already defined images (an unknown or
 * abstract image name is an error).
 *
 * @param doc the parsed secure file
 * @param file its absolute path, for messages
 */
export function applySecureFile(config: NodepoolConfig, doc: unknown, file: string): ConfigError[] {
  if (doc === null || doc === undefined) return [];
  const result = validate<Raw>(secureSchema, doc);
  const errors = configErrors(file, 'schema', result.issues);
  if (typeof result.value !== 'object' || result.value === null) return errors;
  const secure = result.value;
  const servers = zookeeperServers(secure['zookeeper-servers']);
  if (servers.length > 0) config.zookeeperServers = servers;
  const tls = zookeeperTls(secure['zookeeper-tls']);
  if (tls) config.zookeeperTls = tls;
  ((secure.diskimages ?? []) as Raw[]).forEach((entry, i) => {
    if (typeof entry?.name !== 'string') return;
    const image = config.diskimages.get(entry.name);
    if (!image) {
      errors.push(configError(file, 'check', `diskimages[${i}].name`, `unknown diskimage ${entry.name}`));
      return;
    }
    image['env-vars'] = { ...(image['env-vars'] as Raw), ...(entry['env-vars'] as Raw) };
  });
  return errors;
}
