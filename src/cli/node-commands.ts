/**
 * The `nodepool` subcommands that change records: `hold`, `delete [--now]`, `erase`
 * (`nodepoolcmd.py`, drivers-config §6). Node changes are made under the node lock, taken
 * blocking with a 5 s timeout as Nodepool's CLI does.
 */
import { loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { Kernel } from '../kernel/kernel';
import { NodeDeleter } from '../plugins/node-deleter';
import type { Node } from '../zk/models/node';
import type { NodepoolZk } from '../zk/nodepool-zk';
import type { CliConfigOptions } from './cli-zk';
import { CliError } from './cli-error';
import { nodeListText, providerBuilds, providerNodes } from './status-commands';

/** Node lock wait of `hold` and `delete`, s (CLI:293, 319). */
const LOCK_TIMEOUT_S = 5;

async function lockOrFail(zk: NodepoolZk, node: Node): Promise<void> {
  if (!(await zk.lockNode(node, { blocking: true, timeout: LOCK_TIMEOUT_S }))) {
    throw new CliError(`timeout trying to acquire the lock of node ${node.id} (held by someone else)`);
  }
}

/**
 * `nodepool hold ID [--reason TEXT]`: state `hold` (and `comment` = reason when given), stored
 * under the lock; `hold_expiration` is left as it is (Zuul's autohold sets it; Nodepool's CLI
 * does not). Nodepool's CLI has no `--reason` and leaves the comment alone.
 */
export async function holdCommand(zk: NodepoolZk, id: string, reason: string | undefined, out: (t: string) => void): Promise<number> {
  const node = await zk.getNode(id);
  if (!node) {
    out(`Node id ${id} not found\n`);
    return 0;
  }
  out('Waiting for lock...\n');
  await lockOrFail(zk, node);
  try {
    // Set after locking: lockNode refreshed the node, so this writes on current data.
    node.state = 'hold';
    if (reason !== undefined) node.comment = reason;
    await zk.storeNode(node);
  } finally {
    await zk.unlockNode(node);
  }
  out(await nodeListText(zk, { nodeId: id }));
  return 0;
}

/** What `delete --now` needs to run a provider locally. */
export interface DeleteNowOptions extends CliConfigOptions {
  /** Aborts the provider's delete (SIGINT). */
  signal?: AbortSignal;
}

/**
 * `nodepool delete ID [--now]`. Without `--now` the node is marked `deleting` under its lock and
 * its launcher deletes it. With `--now` the provider must be in the local nodepool.yaml; it is
 * started here, the node deleted through the provider's deleter, and the provider stopped.
 */
export async function deleteCommand(zk: NodepoolZk, id: string, now: DeleteNowOptions | undefined, out: (t: string) => void): Promise<number> {
  const node = await zk.getNode(id);
  if (!node) {
    out(`Node id ${id} not found\n`);
    return 0;
  }
  await lockOrFail(zk, node);
  if (!now) {
    try {
      node.state = 'deleting';
      await zk.storeNode(node);
    } finally {
      await zk.unlockNode(node);
    }
  } else if (!(await deleteNow(zk, node, now, out))) {
    return 0;
  }
  out(await nodeListText(zk, { nodeId: id }));
  return 0;
}

/** Deletes the locked node through its provider; false (after saying why) when we have none. */
async function deleteNow(zk: NodepoolZk, node: Node, options: DeleteNowOptions, out: (t: string) => void): Promise<boolean> {
  // Only the plugins are needed (drivers); the kernel connects nowhere.
  const settings = loadLauncherSettings({ env: options.env, overrides: { config: options.config, log: { level: 'error' } } });
  const kernel = await Kernel.create({ settings: { ...settings, tracing: { ...settings.tracing, exporter: 'none' } } });
  try {
    const loaded = loadNodepoolConfig(options.config, options.secure ?? null, kernel.drivers.all(), options.env, { runtime: true });
    const providerConfig = node.provider ? loaded.config?.providers.get(node.provider) : undefined;
    const driver = providerConfig ? kernel.drivers.get(providerConfig.driver) : undefined;
    if (!loaded.config || !providerConfig || !driver) {
      await zk.unlockNode(node);
      out(`Provider ${node.provider} for node ${node.id} not defined on this launcher\n`);
      return false;
    }
    const provider = driver.createProvider(providerConfig, {
      zk, logger: kernel.logger, tracer: kernel.tracing.tracer, metrics: kernel.metrics, config: loaded.config,
    });
    try {
      await provider.start();
    } catch (err) {
      await zk.unlockNode(node);
      throw new CliError(`provider ${providerConfig.name} did not start: ${(err as Error).message}`);
    }
    try {
      const result = await new NodeDeleter({ zk, provider, node, logger: kernel.logger, tracer: kernel.tracing.tracer, signal: options.signal }).run();
      if (!result.deleted) throw new CliError(`node ${node.id} was not deleted: ${result.error?.message ?? 'unknown error'} (left in state deleting)`);
    } finally {
      await provider.stop();
    }
    return true;
  } finally {
    await kernel.stop();
  }
}

/** Reads one answer line (the `[N/y]` prompt). */
export type AskLine = (prompt: string) => Promise<string>;

/**
 * `nodepool erase PROVIDER [--force]`: removes the provider's image upload subtrees and all its
 * node znodes (no locks taken, as Nodepool). Without `--force` it asks first.
 */
export async function eraseCommand(zk: NodepoolZk, provider: string, force: boolean, ask: AskLine, out: (t: string) => void): Promise<number> {
  const builds = await providerBuilds(zk, provider);
  const nodes = await providerNodes(zk, provider);
  if (!force) {
    out('\nWARNING! This action is not reversible!\n');
    const answer = await ask(`Erase ZooKeeper data for provider ${provider}? [N/y] `);
    if (answer.toLowerCase() !== 'y') {
      out('Aborting. No data erased.\n');
      return 0;
    }
  }
  out(`Erasing build data for ${provider}...\n`);
  for (const b of builds) await zk.client.deleteRecursive(`/nodepool/images/${b.image}/builds/${b.build}/providers/${provider}`);
  out(`Erasing node data for ${provider}...\n`);
  for (const node of nodes) await zk.deleteNode(node);
  return 0;
}
