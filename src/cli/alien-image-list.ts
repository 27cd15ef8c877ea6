/**
 * `nodepool alien-image-list [PROVIDER]`, as Nodepool's: images a Nodepool builder uploaded to a
 * provider of the local nodepool.yaml (driver hook `listManagedImages`) whose ids no `ready` upload
 * record in ZooKeeper names. Columns Provider, Name, Image ID. A provider whose listing fails is
 * named on stderr and left out, as Nodepool logs and goes on.
 */
import { loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { Kernel } from '../kernel/kernel';
import { prettyTable } from '../status/pretty-table';
import { readImageTree } from '../zk/image-tree';
import type { NodepoolZk } from '../zk/nodepool-zk';
import type { CliConfigOptions } from './cli-zk';
import { quietLogger } from './cli-zk';

/** Image ids of `ready` uploads to `provider` of the images it names in its `diskimages`. */
function readyUploadIds(tree: Awaited<ReturnType<typeof readImageTree>>, provider: string, images: ReadonlySet<string>): Set<string> {
  const ids = new Set<string>();
  for (const image of tree.images) {
    if (!images.has(image.name)) continue;
    for (const build of image.builds) {
      for (const p of build.providers) {
        if (p.provider !== provider) continue;
        for (const u of p.uploads) if (u.upload.state === 'ready' && u.upload.external_id) ids.add(u.upload.external_id);
      }
    }
  }
  return ids;
}

/** Runs the command; returns the exit code. */
export async function alienImageListCommand(
  zk: NodepoolZk, providerName: string | undefined, options: CliConfigOptions, out: (t: string) => void, err: (t: string) => void,
): Promise<number> {
  const settings = loadLauncherSettings({ env: options.env, overrides: { config: options.config, log: { level: 'error' } } });
  // Only the plugins are needed (drivers); the kernel connects nowhere.
  const kernel = await Kernel.create({ settings: { ...settings, tracing: { ...settings.tracing, exporter: 'none' } } });
  const rows: string[][] = [];
  try {
    const loaded = loadNodepoolConfig(options.config, options.secure ?? null, kernel.drivers.all(), options.env, { runtime: true });
    const tree = await readImageTree(zk.client);
    for (const config of loaded.config?.providers.values() ?? []) {
      if (providerName && config.name !== providerName) continue;
      const driver = kernel.drivers.get(config.driver);
      if (!driver) continue;
      const provider = driver.createProvider(config, { zk, logger: quietLogger, tracer: kernel.tracing.tracer, metrics: kernel.metrics, config: loaded.config! });
      if (!provider.listManagedImages) continue;
      let images: { id: string; name: string }[] = [];
      try {
        await provider.start();
        images = await provider.listManagedImages();
      } catch (e) {
        err(`Exception listing alien images for ${config.name}: ${(e as Error).message}\n`);
      } finally {
        await provider.stop().catch(() => undefined);
      }
      const names = new Set(((config.raw.diskimages ?? []) as { name: string }[]).map((d) => d.name));
      const known = readyUploadIds(tree, config.name, names);
      for (const image of images) if (!known.has(image.id)) rows.push([config.name, image.name, image.id]);
    }
  } finally {
    await kernel.stop();
  }
  out(`${prettyTable(['Provider', 'Name', 'Image ID'], rows)}\n`);
  return 0;
}
