import type { LauncherSettings } from '../plugins/launcher-settings';
import { ZooKeeper } from '../plugins/zookeeper';
import type { ZkClientOptions } from '../zk/zk-client';
import { formatConfigError, type ConfigError } from './config/config-error';
import { configFilesChanged, loadNodepoolConfig, type ConfigFileStamp } from './config/nodepool-config-loader';
import { Kernel, type KernelOptions } from './kernel';
import { LauncherComponent, LauncherComponentToken } from './services/launcher-component';
import { resolveZooKeeperOptions } from './services/zookeeper-options';
import { loadTls, tlsKeyWarnings } from '../zk/tls-connection';

/** A launcher kernel with its configuration loaded. */
export interface LauncherKernel {
  kernel: Kernel;
  /** Problems in nodepool.yaml; the launcher runs what is valid. */
  configErrors: ConfigError[];
  /** Reloads nodepool.yaml if a file changed; returns the new errors, or undefined if unchanged. */
  reloadIfChanged(): ConfigError[] | undefined;
}

/** Thrown when the launcher cannot run at all (no readable config, no ZooKeeper to talk to). */
export class LauncherSetupError extends Error {
  override readonly name = 'LauncherSetupError';
}

/**
 * Builds one launcher: the kernel with its plugins, ZooKeeper (settings first, nodepool.yaml
 * for what they leave empty) and the launcher component, and loads nodepool.yaml with the
 * plugins' drivers. Nothing is connected until `kernel.start()`.
 */
export async function createLauncherKernel(
  settings: LauncherSettings,
  options: Omit<KernelOptions, 'settings' | 'zookeeper'> & { zookeeper?: ZkClientOptions; env?: NodeJS.ProcessEnv } = {},
): Promise<LauncherKernel> {
  const env = options.env ?? process.env;
  const secure = settings.secureConfig || null;
  // The ZooKeeper servers may come from nodepool.yaml, but the kernel binds ZooKeeper before the
  // plugins (and so the drivers) load: read the file's top level once without drivers first.
  const early = loadNodepoolConfig(settings.config, secure, [], env, { runtime: true });
  if (!early.config) {
    throw new LauncherSetupError(early.errors.map(formatConfigError).join('\n'));
  }
  const zookeeper = options.zookeeper ?? resolveZooKeeperOptions(settings, early.config);
  if (!zookeeper) {
    throw new LauncherSetupError(
      `no ZooKeeper configured: add zookeeper-servers to ${settings.config} or set --zk-hosts / NODEPOOL_TS_ZK_HOSTS`,
    );
  }
  // Bad TLS material is a one-line start-up error, not a stack trace from deep in the kernel.
  let tlsWarnings: string[] = [];
  if (zookeeper.tls) {
    try {
      loadTls(zookeeper.tls);
    } catch (err) {
      throw new LauncherSetupError((err as Error).message);
    }
    tlsWarnings = tlsKeyWarnings(zookeeper.tls);
  }
  const userCore = options.coreServices;
  const kernel = await Kernel.create({
    ...options,
    settings,
    zookeeper,
    coreServices: (c) => {
      const component = new LauncherComponent(c.get(ZooKeeper), settings.hostname);
      c.bind(LauncherComponentToken).toConstantValue(component);
      return [component, ...(userCore?.(c) ?? [])];
    },
  });
  for (const warning of tlsWarnings) kernel.logger.warn(warning);
  let stamps: ConfigFileStamp[] = [];
  const load = (): ConfigError[] => {
    const result = loadNodepoolConfig(settings.config, secure, kernel.drivers.all(), env, { runtime: true });
    stamps = result.stamps;
    for (const error of result.errors) {
      if (error.severity === 'warning') kernel.logger.warn(formatConfigError(error), { file: error.file, key: error.path });
      else kernel.logger.error(formatConfigError(error), { file: error.file, key: error.path });
    }
    // A config that cannot be read at all keeps the previous one in force (spec §1.1 step 5).
    if (result.config) kernel.setConfig(result.config);
    return result.errors;
  };
  const configErrors = load();
  return {
    kernel,
    configErrors,
    reloadIfChanged: () => (configFilesChanged(stamps) ? load() : undefined),
  };
}
