import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { LauncherSettingsError, loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { LauncherSetupError } from '../kernel/launcher-kernel';
import { createLauncher } from '../launcher/create-launcher';
import { resolveZooKeeperOptions } from '../kernel/services/zookeeper-options';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { NodepoolConfigSource } from '../plugins/nodepool-config';
import { VERSION } from '../kernel/services/launcher-component';
import { WebApp } from '../web/web-app';
import { startLocalZooKeeper, type ZooKeeperServer } from './local-zookeeper';
import { readPythonLoggingConfig, type LoggingPlan } from './python-logging-config';

/** The quickstart configuration shipped with the repository. */
export const QUICKSTART_CONFIG = path.resolve(__dirname, '../../config/quickstart.yaml');

/** How often the launcher looks for a changed nodepool.yaml (Nodepool: every main loop, 1 s). */
const RELOAD_CHECK_MS = 1000;

function fail(message: string): number {
  process.stderr.write(`nodepool-launcher: ${message}\n`);
  return 1;
}

/**
 * `nodepool-launcher`: runs one launcher in the foreground until SIGINT or SIGTERM, then stops
 * cleanly (component records removed, locks released, session closed). A second signal exits at
 * once. Launcher settings flags (`--zk-hosts`, `--log-level`, ...) are passed to the settings
 * loader; `-c`/`-s` are Nodepool's.
 */
export async function launcherMain(argv: string[]): Promise<number> {
  const program = new Command('nodepool-launcher')
    .description('Run a nodepool-ts launcher in the foreground')
    .option('-c, --config <file>', 'path to nodepool.yaml', '/etc/nodepool/nodepool.yaml')
    .option('-s, --secure <file>', 'path to the secure file')
    .option('--quickstart', 'run on config/quickstart.yaml, starting a local ZooKeeper if none is configured')
    .option('-f, --foreground', 'accepted for compatibility: always runs in the foreground')
    .option('-d, --debug', 'log at debug level')
    .option('-p, --pidfile <file>', 'write the process id to this file (removed on exit)')
    .option('-l, --logconfig <file>', 'Python logging configuration (INI, or dictConfig .yaml): its nodepool (else root) level and first handler')
    .option('--no-webapp', 'do not serve the web status API')
    .allowUnknownOption(true)
    .version(`nodepool-ts ${VERSION}`, '--version')
    .helpOption('-h, --help')
    .addHelpText('after', '\nLauncher settings flags (see README): --zk-hosts, --zk-chroot, --zk-tls-cert/key/ca,\n--plugin-dirs, --tracing-exporter, --tracing-endpoint, --log-level, --log-format, --settings FILE');
  program.parse(argv, { from: 'user' });
  const opts = program.opts<{ config: string; secure?: string; quickstart?: boolean; debug?: boolean; webapp: boolean; pidfile?: string; logconfig?: string }>();
  let logPlan: LoggingPlan | undefined;
  if (opts.logconfig) {
    try {
      logPlan = readPythonLoggingConfig(path.resolve(opts.logconfig));
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  const configGiven = program.getOptionValueSource('config') === 'cli';

  let settings;
  try {
    settings = loadLauncherSettings({
      args: argv,
      env: process.env,
      overrides: {
        ...(opts.quickstart && !configGiven ? { config: QUICKSTART_CONFIG } : configGiven ? { config: path.resolve(opts.config) } : {}),
        ...(opts.secure ? { secureConfig: path.resolve(opts.secure) } : {}),
        ...(logPlan ? { log: { level: logPlan.level } } : {}),
        ...(opts.debug ? { log: { level: 'debug' } } : {}),
        ...(opts.webapp === false ? { web: { enabled: false } } : {}),
      },
    });
  } catch (err) {
    if (err instanceof LauncherSettingsError) return fail(err.message);
    throw err;
  }

  let localZk: ZooKeeperServer | undefined;
  if (opts.quickstart && !resolveZooKeeperOptions(settings, loadNodepoolConfig(settings.config, settings.secureConfig || null, []).config)) {
    try {
      localZk = await startLocalZooKeeper();
    } catch (err) {
      return fail((err as Error).message);
    }
    process.stderr.write(`nodepool-launcher: started a local ZooKeeper for the quickstart at ${localZk.connectString}\n`);
    settings = { ...settings, zookeeper: { ...settings.zookeeper, hosts: localZk.connectString } };
  }

  let launcher;
  let webApp: WebApp | undefined;
  try {
    // The web app is a core service after the engine; `--no-webapp` (web.enabled) leaves it out.
    const web = settings.web.enabled;
    const logStream = logPlan?.destination.kind === 'file' ? fs.createWriteStream(logPlan.destination.path, { flags: 'a' })
      : logPlan?.destination.kind === 'stdout' ? process.stdout : undefined;
    launcher = await createLauncher(settings, { processGlobal: true, logStream, coreServices: (c) => (web ? [(webApp = new WebApp(c))] : []) });
  } catch (err) {
    await localZk?.stop();
    if (err instanceof LauncherSetupError) return fail(err.message);
    throw err;
  }
  const { kernel } = launcher;
  const pidfile = opts.pidfile ? path.resolve(opts.pidfile) : undefined;
  if (pidfile) {
    try {
      fs.writeFileSync(pidfile, `${process.pid}\n`);
    } catch (err) {
      await localZk?.stop();
      return fail(`cannot write the pid file ${pidfile}: ${(err as Error).message}`);
    }
  }
  const removePidfile = (): void => {
    if (pidfile) fs.rmSync(pidfile, { force: true });
  };
  // SIGUSR2 (Nodepool's stack dump): what this process is waiting on, to the log.
  const onDump = (): void => kernel.logger.info('stack dump', processDump());
  process.on('SIGUSR2', onDump);
  try {
    await kernel.start();
  } catch (err) {
    await localZk?.stop();
    removePidfile();
    return fail((err as Error).message);
  }
  // Everything (engine, plugins) is up: the web app may now say so on /ready.
  webApp?.setReady(true);
  const providers = [...kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers.keys()];
  kernel.logger.info('launcher running', { config: settings.config, providers, session: kernel.zookeeper?.client.sessionId });

  const reload = setInterval(() => {
    try {
      const errors = launcher.reloadIfChanged();
      if (errors) kernel.logger.info('configuration reloaded', { errors: errors.length });
    } catch (err) {
      kernel.logger.error('configuration reload failed', { err });
    }
  }, RELOAD_CHECK_MS);

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      kernel.logger.info(`received ${signal}, stopping`);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // Nodepool's graceful stop. A handler of our own also keeps Node from opening its debugger.
    process.once('SIGUSR1', onSignal);
  });
  process.off('SIGUSR2', onDump);
  clearInterval(reload);
  webApp?.setReady(false);
  await kernel.stop();
  await localZk?.stop();
  removePidfile();
  kernel.logger.info('launcher stopped');
  return 0;
}

/**
 * What SIGUSR2 logs. Nodepool dumps every thread's stack; a Node process has one JavaScript
 * stack (this handler's), so the useful part is what it waits on: its open handles and pending
 * requests by kind, and its memory.
 */
function processDump(): Record<string, unknown> {
  const count = (items: unknown[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const item of items) {
      const kind = typeof item === 'string' ? item : ((item as { constructor?: { name?: string } })?.constructor?.name ?? typeof item);
      out[kind] = (out[kind] ?? 0) + 1;
    }
    return out;
  };
  const proc = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };
  return {
    stack: new Error('stack dump').stack?.split('\n').slice(1).map((l) => l.trim()),
    handles: count(proc._getActiveHandles?.() ?? []),
    requests: count(proc._getActiveRequests?.() ?? []),
    resources: typeof process.getActiveResourcesInfo === 'function' ? count(process.getActiveResourcesInfo()) : undefined,
    memory: process.memoryUsage(),
    uptime_s: Math.round(process.uptime()),
  };
}
