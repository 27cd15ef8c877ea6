import fs from 'node:fs';
import path from 'node:path';
import { CommanderError } from 'commander';
import { LauncherSettingsError, loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { LauncherSetupError } from '../kernel/launcher-kernel';
import { createLauncher } from '../launcher/create-launcher';
import { resolveZooKeeperOptions } from '../kernel/services/zookeeper-options';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { NodepoolConfigSource } from '../plugins/nodepool-config';
import { WebApp } from '../web/web-app';
import { startLocalZooKeeper, type ZooKeeperServer } from './local-zookeeper';
import { readPythonLoggingConfig, type LoggingPlan } from './python-logging-config';
import { DEFAULT_DAEMON_LOG, DEFAULT_PIDFILE, launcherCommandLine, launcherProgram } from './launcher-options';
import { DAEMON_CHILD_ENV, detachLauncher, reportToParent } from './launcher-daemon';
import { quickstartNextSteps } from './quickstart-banner';

/** The quickstart configuration shipped with the repository. */
export const QUICKSTART_CONFIG = path.resolve(__dirname, '../../config/quickstart.yaml');

/** The command the daemon mode re-runs detached. */
const LAUNCHER_BIN = path.resolve(__dirname, '../../bin/nodepool-launcher');

/** How often the launcher looks for a changed nodepool.yaml (Nodepool: every main loop, 1 s). */
const RELOAD_CHECK_MS = 1000;

/** Where `nodepool-launcher` writes its own lines (the log has its own stream); tests pass buffers. */
export interface LauncherIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: LauncherIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
};

/** Why a start failed, with the flag that helps where there is one. */
function explain(message: string): string {
  if (/web status API cannot listen/.test(message) && /EADDRINUSE/.test(message)) {
    return `${message} (another process uses that port: pick another with --web-port PORT, 0 = any free port, or turn the web app off with --no-webapp)`;
  }
  if (/web status API cannot listen/.test(message) && /EACCES/.test(message)) {
    return `${message} (a port below 1024 needs privileges: pick another with --web-port PORT, or turn the web app off with --no-webapp)`;
  }
  return message;
}

/**
 * `nodepool-launcher`: Nodepool's launcher command. Without `-d` or `-f` it detaches as a daemon
 * (see launcher-daemon.ts); in the foreground it runs until SIGINT, SIGTERM or SIGUSR1, then
 * stops cleanly (component records removed, locks released, session closed); a second signal
 * exits at once. Exit codes: 0 after a clean stop (or once the daemon wrote its pid file), 1 when
 * it cannot start, 2 for a bad command line (as argparse).
 */
export async function launcherMain(argv: string[], io: LauncherIo = defaultIo): Promise<number> {
  const fail = (message: string): number => {
    io.stderr(`nodepool-launcher: ${message}\n`);
    return 1;
  };
  const program = launcherProgram(io.stdout, io.stderr);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const { flags, configGiven, settingsArgs } = launcherCommandLine(program);
  // Set only in the detached child of the daemon mode (and not passed on to its children).
  const daemonPidfile = io.env[DAEMON_CHILD_ENV];
  delete io.env[DAEMON_CHILD_ENV];
  const foreground = Boolean(flags.debug || flags.foreground || flags.quickstart || daemonPidfile);

  let logPlan: LoggingPlan | undefined;
  if (flags.logconfig) {
    try {
      logPlan = readPythonLoggingConfig(path.resolve(flags.logconfig));
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  let settings;
  try {
    settings = loadLauncherSettings({
      args: settingsArgs,
      env: io.env,
      overrides: {
        ...(flags.quickstart && !configGiven ? { config: QUICKSTART_CONFIG } : configGiven ? { config: path.resolve(flags.config) } : {}),
        ...(flags.secure ? { secureConfig: path.resolve(flags.secure) } : {}),
        ...(logPlan ? { log: { level: logPlan.level } } : {}),
        // Nodepool: -d sets debug logging unless a logging configuration is given.
        ...(flags.debug && !logPlan ? { log: { level: 'debug' } } : {}),
        ...(flags.webapp === false ? { web: { enabled: false } } : {}),
      },
    });
  } catch (err) {
    if (err instanceof LauncherSettingsError) return fail(err.message);
    throw err;
  }

  if (!foreground) {
    // Without -l Nodepool's daemon logs to /var/log/nodepool/nodepool.log; with -l the logger
    // writes where it says (a stream handler of a daemon writes nowhere, as in Python).
    const logFile = logPlan ? (logPlan.destination.kind === 'file' ? logPlan.destination.path : undefined) : DEFAULT_DAEMON_LOG;
    return detachLauncher(LAUNCHER_BIN, argv, path.resolve(flags.pidfile ?? DEFAULT_PIDFILE), logFile, io.stderr);
  }

  const pidfile = daemonPidfile ?? (flags.pidfile ? path.resolve(flags.pidfile) : undefined);
  if (pidfile) {
    try {
      fs.writeFileSync(pidfile, `${process.pid}\n`);
    } catch (err) {
      const message = `cannot write the pid file ${pidfile}: ${(err as Error).message}`;
      if (daemonPidfile) reportToParent({ error: message });
      return fail(message);
    }
    if (daemonPidfile) reportToParent({ pidfile });
  }
  try {
    return await runInForeground(settings, flags.quickstart === true, logPlan, io);
  } finally {
    if (pidfile) fs.rmSync(pidfile, { force: true });
  }
}

async function runInForeground(initial: ReturnType<typeof loadLauncherSettings>, quickstart: boolean, logPlan: LoggingPlan | undefined, io: LauncherIo): Promise<number> {
  let settings = initial;
  const fail = (message: string): number => {
    io.stderr(`nodepool-launcher: ${message}\n`);
    return 1;
  };
  let localZk: ZooKeeperServer | undefined;
  if (quickstart && !resolveZooKeeperOptions(settings, loadNodepoolConfig(settings.config, settings.secureConfig || null, []).config)) {
    try {
      localZk = await startLocalZooKeeper();
    } catch (err) {
      return fail((err as Error).message);
    }
    io.stderr(`nodepool-launcher: started a local ZooKeeper for the quickstart at ${localZk.connectString}\n`);
    settings = { ...settings, zookeeper: { ...settings.zookeeper, hosts: localZk.connectString } };
  }

  let launcher: Awaited<ReturnType<typeof createLauncher>> | undefined;
  let webApp: WebApp | undefined;
  try {
    // The web app is a core service after the engine; `--no-webapp` (web.enabled) leaves it out.
    const web = settings.web.enabled;
    const logStream = logPlan?.destination.kind === 'file' ? fs.createWriteStream(logPlan.destination.path, { flags: 'a' })
      : logPlan?.destination.kind === 'stdout' ? process.stdout : undefined;
    const readiness = (): string | undefined => launcher?.engine.notReadyReason();
    launcher = await createLauncher(settings, { processGlobal: true, logStream, coreServices: (c) => (web ? [(webApp = new WebApp(c, { readiness }))] : []) });
  } catch (err) {
    await localZk?.stop();
    if (err instanceof LauncherSetupError) return fail(err.message);
    throw err;
  }
  const { kernel } = launcher;
  // SIGUSR2 (Nodepool's stack dump): what this process is waiting on, to the log.
  const onDump = (): void => kernel.logger.info('stack dump', processDump());
  process.on('SIGUSR2', onDump);
  try {
    await kernel.start();
  } catch (err) {
    process.off('SIGUSR2', onDump);
    await localZk?.stop();
    return fail(explain((err as Error).message));
  }
  // Everything (engine, plugins) is up: the web app may now say so on /ready.
  webApp?.setReady(true);
  const config = kernel.container.get<NodepoolConfigSource>(NodepoolConfigSource).current();
  const providers = [...config.providers.keys()];
  kernel.logger.info('launcher running', { config: settings.config, providers, session: kernel.zookeeper?.client.sessionId });
  if (quickstart) {
    io.stdout(quickstartNextSteps({
      config: settings.config, zkHosts: settings.zookeeper.hosts, zkChroot: settings.zookeeper.chroot,
      label: [...config.labels.keys()][0], web: webApp?.address(), localZooKeeper: localZk !== undefined, cwd: process.cwd(),
    }));
  }

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
