/**
 * Runs the real launcher — kernel, engine, plugin loading — with out-of-tree plugins, against a
 * ZooKeeper the test names. The SDK stands alone: it does not import the launcher. The launcher
 * is the `nodepool-ts` package (an optional peer dependency of the SDK), run as a child process
 * (`bin/nodepool-test-launcher`: `nodepool-launcher` with short engine periods) that loads the
 * plugins from their folders exactly as in production, `@nodepool-ts/sdk` resolved to the
 * launcher's own SDK. The test sees the launcher only through ZooKeeper and the driver's cloud.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Options of {@link startTestLauncher}. */
export interface StartTestLauncherOptions {
  /** Plugin folders to load (each a plugin, or a folder of plugins): `--plugin-dirs`. */
  plugins: string[];
  /** ZooKeeper as `host:port[,host:port][/chroot]`. */
  zookeeper: string;
  /** The `providers:` sections of nodepool.yaml. */
  providers: Array<Record<string, unknown>>;
  /**
   * The top-level `labels:` entries; by default every label named in the providers' pools
   * (`labels: [name]` or `labels: [{name: ...}]`) with `min-ready: 0`.
   */
  labels?: Array<Record<string, unknown>>;
  /** Further top-level keys of nodepool.yaml (`tenant-resource-limits`, `diskimages`, …). */
  extraConfig?: Record<string, unknown>;
  /** The launcher's hostname in its component records (default `sdk-test-<pid>-<n>`). */
  hostname?: string;
  /**
   * Folder of the `nodepool-ts` package to run. Default: `$NODEPOOL_TS_HOME`, else the
   * `nodepool-ts` package resolved from the current directory.
   */
  launcherHome?: string;
  /**
   * Also load the launcher's built-in plugins (static, metastatic, openstack); default false, so
   * the launcher runs only the plugins under test and starts faster.
   */
  builtinPlugins?: boolean;
  /** Extra environment of the launcher process (`NODEPOOL_TS_*` settings). */
  env?: Record<string, string>;
  /** How long to wait for the launcher to run, ms (default 60000). */
  startTimeoutMs?: number;
}

/** A running test launcher. */
export interface TestLauncher {
  /** The nodepool.yaml it runs on (rewrite it to reload). */
  readonly configFile: string;
  /** Its hostname in ZooKeeper. */
  readonly hostname: string;
  /** The child process. */
  readonly process: ChildProcess;
  /** Its log so far (JSON lines). */
  log(): string;
  /** Rewrites nodepool.yaml with new provider sections; the launcher reloads it within a second. */
  setProviders(providers: Array<Record<string, unknown>>): void;
  /** Stops it (SIGTERM: requests in progress are handed back) and removes its files; resolves with the exit code. */
  stop(): Promise<number | null>;
}

let launched = 0;

/** The `nodepool-ts` folder to run; see {@link StartTestLauncherOptions.launcherHome}. */
export function resolveLauncherHome(explicit?: string): string {
  const home = explicit ?? process.env.NODEPOOL_TS_HOME;
  if (home) return path.resolve(home);
  try {
    return path.dirname(require.resolve('nodepool-ts/package.json', { paths: [process.cwd(), __dirname] }));
  } catch {
    throw new Error('startTestLauncher: the nodepool-ts launcher package is not installed here; install it, set NODEPOOL_TS_HOME to its folder, or pass launcherHome');
  }
}

function defaultLabels(providers: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const names = new Set<string>();
  for (const provider of providers) {
    for (const pool of (provider.pools as Array<Record<string, unknown>> | undefined) ?? []) {
      for (const label of (pool.labels as unknown[] | undefined) ?? []) {
        const name = typeof label === 'string' ? label : (label as { name?: unknown })?.name;
        if (typeof name === 'string') names.add(name);
      }
    }
  }
  return [...names].map((name) => ({ name, 'min-ready': 0 }));
}

/** `zookeeper-servers` entries of nodepool.yaml from a connect string. */
function zookeeperServers(connect: string): Array<Record<string, unknown>> {
  const slash = connect.indexOf('/');
  const hosts = slash < 0 ? connect : connect.slice(0, slash);
  const chroot = slash < 0 ? null : connect.slice(slash);
  return hosts.split(',').filter(Boolean).map((hp) => {
    const at = hp.lastIndexOf(':');
    const entry: Record<string, unknown> = { host: at < 0 ? hp : hp.slice(0, at), port: at < 0 ? 2181 : Number(hp.slice(at + 1)) };
    if (chroot) entry.chroot = chroot;
    return entry;
  });
}

/**
 * Starts a launcher on a nodepool.yaml made of `options` and waits until it runs. Rejects, with
 * the launcher's log, when it exits, a plugin fails to load or nodepool.yaml has errors.
 */
export async function startTestLauncher(options: StartTestLauncherOptions): Promise<TestLauncher> {
  const home = resolveLauncherHome(options.launcherHome);
  const bin = path.join(home, 'bin', 'nodepool-test-launcher');
  if (!fs.existsSync(bin)) throw new Error(`startTestLauncher: ${bin} not found (is ${home} the nodepool-ts package?)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-test-launcher-'));
  const configFile = path.join(dir, 'nodepool.yaml');
  const hostname = options.hostname ?? `sdk-test-${process.pid}-${++launched}`;
  const writeConfig = (providers: Array<Record<string, unknown>>): void => {
    // JSON is YAML: no YAML writer needed.
    const config = {
      'zookeeper-servers': zookeeperServers(options.zookeeper),
      labels: options.labels ?? defaultLabels(providers),
      providers,
      ...options.extraConfig,
    };
    fs.writeFileSync(`${configFile}.tmp`, JSON.stringify(config, null, 2));
    fs.renameSync(`${configFile}.tmp`, configFile);
  };
  writeConfig(options.providers);
  const child = spawn(process.execPath, [bin, '-c', configFile, '--plugin-dirs', options.plugins.map((p) => path.resolve(p)).join(',')], {
    env: {
      ...process.env,
      NODEPOOL_TS_HOSTNAME: hostname,
      NODEPOOL_TS_LOG_FORMAT: 'json',
      NODEPOOL_TS_LOG_LEVEL: 'info',
      NODEPOOL_TS_TRACING_EXPORTER: 'none',
      NODEPOOL_TS_BUILTIN_PLUGINS: options.builtinPlugins ? 'true' : 'false',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (d: Buffer): void => {
    log = (log + d.toString()).slice(-500_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const cleanup = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const tail = (): string => log.split('\n').slice(-30).join('\n');
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const end = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the test launcher exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
      const failed = log.split('\n').find((l) => l.includes('plugin not loaded'));
      if (failed) throw new Error(`the test launcher could not load a plugin:\n${failed}`);
      const running = log.split('\n').find((l) => l.includes('"launcher running"'));
      if (running) {
        const errors = (JSON.parse(running) as { config_errors?: number }).config_errors ?? 0;
        if (errors > 0) throw new Error(`nodepool.yaml of the test launcher has ${errors} error(s):\n${tail()}`);
        break;
      }
      if (Date.now() > end) throw new Error(`the test launcher did not start within ${timeoutMs} ms:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exit;
    cleanup();
    throw err;
  }
  return {
    configFile,
    hostname,
    process: child,
    log: () => log,
    setProviders: writeConfig,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exit;
      cleanup();
      return code;
    },
  };
}
