/**
 * The ZooKeeper connection of a `nodepool` subcommand: settings and nodepool.yaml as the
 * launcher reads them, a 5 s connect, and one-line errors instead of stack traces.
 */
import { formatConfigError } from '../kernel/config/config-error';
import { loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { resolveZooKeeperOptions } from '../kernel/services/zookeeper-options';
import type { Logger } from '../plugins/logger';
import { NodepoolZk } from '../zk/nodepool-zk';
import { tlsKeyWarnings } from '../zk/tls-connection';
import { ZkClient } from '../zk/zk-client';
import { CliError } from './cli-error';

/** Where a subcommand finds its configuration. */
export interface CliConfigOptions {
  config: string;
  secure?: string;
  env: NodeJS.ProcessEnv;
}

/** A logger that drops everything: the CLI prints its own lines. */
export const quietLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quietLogger };

/** How long a subcommand waits for ZooKeeper before giving up, ms. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Connects as the launcher would (settings, then nodepool.yaml), runs `fn` and closes the
 * session, also when `fn` throws. Connection problems become a {@link CliError}.
 */
export async function withNodepoolZk<T>(options: CliConfigOptions, fn: (zk: NodepoolZk) => Promise<T>): Promise<T> {
  const settings = loadLauncherSettings({ env: options.env, overrides: { config: options.config } });
  const loaded = loadNodepoolConfig(options.config, options.secure ?? null, [], options.env, { runtime: true });
  if (!loaded.config && !settings.zookeeper.hosts) {
    const first = loaded.errors[0];
    throw new CliError(first ? formatConfigError(first) : `cannot read ${options.config}`);
  }
  const zkOptions = resolveZooKeeperOptions(settings, loaded.config ?? undefined);
  if (!zkOptions) throw new CliError(`no ZooKeeper configured in ${options.config} (zookeeper-servers) or NODEPOOL_TS_ZK_HOSTS`);
  let client: ZkClient;
  try {
    client = new ZkClient({ ...zkOptions, logger: quietLogger });
  } catch (err) {
    throw new CliError((err as Error).message); // e.g. unreadable or invalid TLS material
  }
  // The CLI logs nothing else, but an exposed private key is worth a line on stderr.
  if (zkOptions.tls) for (const warning of tlsKeyWarnings(zkOptions.tls)) process.stderr.write(`nodepool: warning: ${warning}\n`);
  try {
    await client.connect(CONNECT_TIMEOUT_MS);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new CliError(`cannot connect to ZooKeeper at ${zkOptions.hosts}: ${(err as Error).message}`);
  }
  try {
    return await fn(new NodepoolZk(client, quietLogger));
  } finally {
    await client.close().catch(() => undefined);
  }
}
