import { loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { resolveZooKeeperOptions } from '../kernel/services/zookeeper-options';
import { NodeRequest } from '../zk/models/node-request';
import { NodepoolZk } from '../zk/nodepool-zk';
import { ZkClient } from '../zk/zk-client';
import type { Logger } from '../plugins/logger';

/** Options of `nodepool request`. */
export interface RequestCommandOptions {
  config: string;
  secure?: string;
  labels: string[];
  wait: boolean;
  /** Seconds to wait with `--wait`. */
  timeout: number;
  priority: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
}

/** Thrown for operator errors: printed as one line, no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

/**
 * `nodepool request LABEL... [--wait]` (our addition): submits a node request the way Zuul does
 * (persistent sequential znode, every key), prints its id and, with `--wait`, the nodes it got.
 * The request is left in place, so its nodes stay allocated to it until it is deleted.
 */
export async function runRequestCommand(options: RequestCommandOptions): Promise<number> {
  const settings = loadLauncherSettings({ env: options.env, overrides: { config: options.config } });
  const loaded = loadNodepoolConfig(options.config, options.secure ?? null, [], options.env, { runtime: true });
  const zkOptions = resolveZooKeeperOptions(settings, loaded.config);
  if (!zkOptions) throw new CliError(`no ZooKeeper configured in ${options.config} (zookeeper-servers) or NODEPOOL_TS_ZK_HOSTS`);
  const client = new ZkClient({ ...zkOptions, logger: quiet });
  try {
    await client.connect(5000);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new CliError(`cannot connect to ZooKeeper at ${zkOptions.hosts}: ${(err as Error).message}`);
  }
  try {
    const zk = new NodepoolZk(client, quiet);
    const request = new NodeRequest();
    request.node_types = options.labels;
    request.requestor = 'nodepool-cli';
    request.created_time = Date.now() / 1000;
    await zk.submitNodeRequest(request, options.priority, { ephemeral: false });
    options.out(`request ${request.id} submitted for ${options.labels.join(', ')}\n`);
    if (!options.wait) return 0;
    const done = await zk.waitForNodeRequest(request.id as string, ['fulfilled', 'failed'], options.timeout * 1000);
    if (done.state === 'failed') {
      options.out(`request ${done.id} failed (declined by: ${done.declined_by.join(', ') || 'nobody'})\n`);
      return 1;
    }
    options.out(`request ${done.id} fulfilled:\n`);
    for (const [i, id] of done.nodes.entries()) {
      const node = await zk.getNode(id);
      options.out(`  ${id}  ${done.node_types[i]}  ${node?.interface_ip ?? ''}  ${node?.state ?? 'gone'}\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
