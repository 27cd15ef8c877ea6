/**
 * A real `bin/nodepool-launcher` process for fault tests that need to kill a launcher the hard
 * way (SIGKILL: no handover, no unregister, its session left to expire on the server). It loads
 * the repo's plugins and the SDK's fake driver from test/support/plugins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_PLUGINS, waitUntil } from './engine-harness';
import { REPO_PLUGINS } from './test-settings';

const ROOT = path.resolve(__dirname, '../..');

/** A running launcher process. */
export interface LauncherProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stderr (its log, JSON lines). */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
  /** SIGKILL, then wait for it to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful stop), then wait. */
  stop(): Promise<number | null>;
}

/**
 * Starts `bin/nodepool-launcher -c <configFile>` as `hostname` and waits until it logged
 * "launcher running". `sessionTimeoutSec` short keeps the wait for its session's expiry short.
 */
export async function startLauncherProcess(configFile: string, hostname: string, sessionTimeoutSec = 4): Promise<LauncherProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/nodepool-launcher'), '-f', '-c', configFile], {
    env: {
      ...process.env,
      NODEPOOL_TS_HOSTNAME: hostname,
      NODEPOOL_TS_LOG_FORMAT: 'json',
      NODEPOOL_TS_LOG_LEVEL: 'info',
      NODEPOOL_TS_WEB_ENABLED: 'false',
      NODEPOOL_TS_PLUGIN_DIRS: `${REPO_PLUGINS},${TEST_PLUGINS}`,
      NODEPOOL_TS_ZK_SESSION_TIMEOUT: String(sessionTimeoutSec),
      NODEPOOL_TS_TRACING_EXPORTER: 'none',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitUntil(`launcher ${hostname} running`, async () => {
      if (child.exitCode !== null) throw new Error(`launcher ${hostname} exited: ${err}`);
      return err.includes('launcher running');
    }, 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    child,
    stderr: () => err,
    exit,
    kill9: async () => {
      child.kill('SIGKILL');
      await exit;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}
