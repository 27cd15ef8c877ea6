/**
 * `nodepool-test-launcher`: the real launcher (kernel, engine, plugins) with the short engine
 * periods tests need, for the SDK's test kit (`startTestLauncher` in `@nodepool-ts/sdk/testing`
 * spawns it). A leak is deleted on its second sighting by the cleanup worker, which Nodepool runs
 * every 60 s; a driver's conformance run cannot wait minutes for that. Everything else is as
 * `nodepool-launcher`: settings flags and `NODEPOOL_TS_*` variables, `--plugin-dirs`, SIGTERM
 * stops cleanly. No web app.
 */
import path from 'node:path';
import { LauncherSettingsError, loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { LauncherSetupError } from '../kernel/launcher-kernel';
import { createLauncher } from '../launcher/create-launcher';
import type { LauncherEngineOptions } from '../launcher/launcher-engine';
import { NodepoolConfigSource } from '../plugins/nodepool-config';

/** Engine periods of a test launcher (the engine tests use the same). */
export const TEST_ENGINE_TIMINGS: LauncherEngineOptions = {
  poolPollIntervalMs: 300,
  deletedNodeIntervalMs: 200,
  cleanupIntervalMs: 500,
  mainLoopIntervalMs: 200,
  launchPollMs: 20,
  quotaCacheMs: 0,
};

function fail(message: string): number {
  process.stderr.write(`nodepool-test-launcher: ${message}\n`);
  return 1;
}

/** Runs until SIGTERM/SIGINT; `-c FILE` names nodepool.yaml, other flags are settings flags. */
export async function testLauncherMain(argv: string[]): Promise<number> {
  const at = argv.findIndex((a) => a === '-c' || a === '--config');
  if (at < 0 || !argv[at + 1]) return fail('usage: nodepool-test-launcher -c nodepool.yaml [--plugin-dirs DIR,...]');
  const config = path.resolve(argv[at + 1]);
  const args = argv.filter((_a, i) => i !== at && i !== at + 1);
  let launcher;
  try {
    const settings = loadLauncherSettings({ args, env: process.env, overrides: { config, web: { enabled: false } } });
    launcher = await createLauncher(settings, { engine: TEST_ENGINE_TIMINGS });
  } catch (err) {
    if (err instanceof LauncherSettingsError || err instanceof LauncherSetupError) return fail(err.message);
    throw err;
  }
  const { kernel } = launcher;
  try {
    await kernel.start();
  } catch (err) {
    return fail((err as Error).message);
  }
  const providers = [...kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers.keys()];
  kernel.logger.info('launcher running', { config, providers, config_errors: launcher.configErrors.length });
  const reload = setInterval(() => launcher.reloadIfChanged(), 500);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(reload);
  await kernel.stop();
  return 0;
}
