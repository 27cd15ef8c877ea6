/**
 * The real Python Nodepool (Zuul's, the reference our protocol follows) run as a peer on the test
 * suite's ZooKeeper: its `nodepool-launcher` and its `nodepool` CLI, from the source tarball in
 * /work/shared/peers (see the README there). Interop tests use it to check that records, locks
 * and CLI edits written by either side are read and honoured by the other.
 *
 * - {@link detectPeer} says whether the peer can run here (tarball, Debian Python packages,
 *   Netty jars for ZooKeeper's TLS port); tests choose `describe.skip` and print why otherwise.
 * - {@link preparePeer} extracts the tarball once per machine into a cache dir.
 * - {@link startPeerZooKeeper} starts one ZooKeeper with a plain port (our side) and a
 *   mutual-TLS port (Python refuses to start without `zookeeper-tls`).
 * - {@link startPythonLauncher} / {@link runPythonCli} run the Python commands.
 *
 * Test-only knobs of the launcher bootstrap: the component hostname (`socket.gethostname` is
 * patched, so two peers on one machine are told apart) and shorter cleanup / deleted-node
 * intervals (60 s and 5 s in `NodePool.__init__`; set again after the original `__init__` ran).
 * Nodepool's own test suite shortens those intervals the same way; the protocol is unchanged.
 *
 * Observed here (Debian Python 3.11): SIGINT runs Nodepool's exit handler, whose first step
 * (`NodePool.stop()` joining the NodePool thread) never returns although that thread has ended,
 * so the pool workers keep running and nothing is unregistered. `stop()` therefore SIGKILLs
 * after a grace period; a test that needs a clean unregister cannot rely on it.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ZkClient } from '../../src/zk/zk-client';
import { startLocalZooKeeper, type ZooKeeperServer } from '../../src/cli/local-zookeeper';
import { skipBecause } from './skip-reasons';
import { generateTestCerts, type TestCerts } from './tls-certs';

const ROOT = path.resolve(__dirname, '../..');
const PYTHON = '/usr/bin/python3';
/** The Python modules Nodepool's launcher and CLI import (Debian `python3-*` packages). */
const PY_MODULES = ['kazoo', 'voluptuous', 'prettytable', 'openstack', 'yaml', 'paramiko', 'daemon', 'statsd', 'webob', 'paste', 'pbr', 'extras'];
/** The Netty jars ZooKeeper's TLS port needs (src/cli/local-zookeeper.ts adds them). */
const NETTY_JARS = ['buffer', 'codec', 'common', 'handler', 'resolver', 'transport', 'transport-native-epoll', 'transport-native-unix-common']
  .map((n) => `/usr/share/java/netty-${n}.jar`);
/** Driver folders kept: the loader imports every folder and aborts on a missing library. */
const KEPT_DRIVERS = new Set(['static', 'metastatic', 'openstack', 'fake', 'example', 'test']);
/** Suffix of our components' `version`; the Python peer's is its pbr version. */
const OUR_VERSION_SUFFIX = ' nodepool-ts';

/** Where the peer's tarball is, or why the peer cannot run here. */
export type PeerStatus = { available: true; tarball: string } | { available: false; reason: string };

/**
 * Looks for the tarball and what it needs. Synchronous, so a test file can choose `describe` or
 * `describe.skip` while jest collects it. Throws when `NODEPOOL_TS_REQUIRE_PEER=1` (CI) and the
 * peer is missing.
 */
export function detectPeer(): PeerStatus {
  const status = probePeer();
  if (!status.available && process.env.NODEPOOL_TS_REQUIRE_PEER === '1') {
    throw new Error(`the Python Nodepool peer is required (NODEPOOL_TS_REQUIRE_PEER=1) but ${status.reason}`);
  }
  // The caller skips its tests: the summary reporter prints this beside each of them.
  if (!status.available) skipBecause(`Python Nodepool peer: ${status.reason}`);
  return status;
}

function probePeer(): PeerStatus {
  const dir = process.env.NODEPOOL_TS_PEER_DIR ?? path.resolve(ROOT, '../shared/peers');
  const tarballs = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^nodepool-.*\.tar\.gz$/.test(f)).sort() : [];
  if (tarballs.length === 0) return { available: false, reason: `no nodepool-*.tar.gz in ${dir} (set NODEPOOL_TS_PEER_DIR)` };
  const missingJars = NETTY_JARS.filter((j) => !fs.existsSync(j));
  if (missingJars.length > 0) return { available: false, reason: `ZooKeeper's TLS port needs ${missingJars.join(', ')} (apt-get install libnetty-java)` };
  // One child for all imports: jest collects test files synchronously.
  const probe = spawnSync(PYTHON, ['-c', `import ${PY_MODULES.join(', ')}`], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    return { available: false, reason: `${PYTHON} cannot import Nodepool's libraries (${why}); see /work/shared/peers/README.md for the python3-* packages` };
  }
  return { available: true, tarball: path.join(dir, tarballs[tarballs.length - 1]) };
}

/**
 * Extracts `tarball` into `<tmpdir>/nodepool-ts-peer-<sha256 prefix>` unless done already and
 * returns the source root (the folder holding the `nodepool` package). Extraction goes to a
 * private temp dir renamed into place, so two jest workers racing here both end up with one
 * complete copy.
 */
export function preparePeer(tarball: string): string {
  const sha = crypto.createHash('sha256').update(fs.readFileSync(tarball)).digest('hex').slice(0, 16);
  const cache = path.join(os.tmpdir(), `nodepool-ts-peer-${sha}`);
  const root = path.join(cache, 'nodepool');
  if (fs.existsSync(path.join(root, 'nodepool', 'launcher.py'))) return root;
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-peer-staging-'));
  try {
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', staging], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`cannot extract ${tarball}: ${tar.stderr}`);
    const drivers = path.join(staging, 'nodepool', 'nodepool', 'driver');
    for (const entry of fs.readdirSync(drivers, { withFileTypes: true })) {
      if (entry.isDirectory() && !KEPT_DRIVERS.has(entry.name)) fs.rmSync(path.join(drivers, entry.name), { recursive: true, force: true });
    }
    try {
      fs.renameSync(staging, cache);
    } catch (err) {
      // Another worker renamed its copy first (ENOTEMPTY/EEXIST): use that one.
      if (!fs.existsSync(path.join(root, 'nodepool', 'launcher.py'))) throw err;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return root;
}

/** A ZooKeeper with a plain port (ours) and a mutual-TLS port (Python's), and its certificates. */
export interface PeerZooKeeper {
  server: ZooKeeperServer;
  certs: TestCerts;
  /** `127.0.0.1:<port>` of the plain port, for our clients, launchers and kernels. */
  connectString: string;
  /** The TLS port's host and port, for nodepool.yaml's `zookeeper-servers`. */
  tlsHost: string;
  tlsPort: number;
  /** Stops the server and removes the certificates. */
  stop(): Promise<void>;
}

/** Starts the Debian ZooKeeper with both ports (a container has no TLS port here). */
export async function startPeerZooKeeper(): Promise<PeerZooKeeper> {
  const certs = generateTestCerts();
  let server: ZooKeeperServer;
  try {
    server = await startLocalZooKeeper({ tls: { serverKeyAndCert: certs.serverKeyAndCert, ca: certs.ca }, fsync: false });
  } catch (err) {
    certs.cleanup();
    throw err;
  }
  return {
    server,
    certs,
    connectString: server.connectString,
    tlsHost: '127.0.0.1', // the server certificate's IP SAN
    tlsPort: server.securePort!,
    stop: async () => {
      await server.stop();
      certs.cleanup();
    },
  };
}

/**
 * Writes a nodepool.yaml both sides read: `zookeeper-servers` on the TLS port, `zookeeper-tls`
 * with the client certificate, `zookeeper-timeout`, then `body` (labels, providers, ...).
 */
export function writePeerConfig(file: string, zk: PeerZooKeeper, body: string, timeoutSec = 10): string {
  const { ca, clientCert, clientKey } = zk.certs;
  fs.writeFileSync(
    file,
    `zookeeper-servers:\n  - host: ${zk.tlsHost}\n    port: ${zk.tlsPort}\n` +
      `zookeeper-tls:\n  ca: ${ca}\n  cert: ${clientCert}\n  key: ${clientKey}\n` +
      `zookeeper-timeout: ${timeoutSec.toFixed(1)}\n${body}`,
  );
  return file;
}

/** How to run a Python launcher. */
export interface PythonLauncherOptions {
  /** The source root {@link preparePeer} returned. */
  sourceRoot: string;
  configFile: string;
  /** A connected client of ours, to see the launcher register (plain or TLS port). */
  zk: ZkClient;
  /** Its component hostname; default `python-peer-<n>`. */
  hostname?: string;
  /** Cleanup pass interval, s (Nodepool: 60). */
  cleanupIntervalSec?: number;
  /** Deleted-node worker interval, s (Nodepool: 5). */
  deleteIntervalSec?: number;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for its launcher component to be `running`, ms. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGINT before SIGKILL, ms (default 15 s). */
  stopGraceMs?: number;
}

/** A running Python `nodepool-launcher`. */
export interface PythonLauncher {
  readonly pid: number;
  readonly hostname: string;
  /** Its stdout and stderr (debug log), the last 500 kB. */
  log(): string;
  /** Resolves with the exit code, or the signal name when killed by one. */
  readonly exit: Promise<number | string>;
  /**
   * SIGINT: Python's exit handler stops the pool and unregisters its components. If it has not
   * exited after `stopGraceMs` it is SIGKILLed (resolves with 'SIGKILL'; see the module comment).
   */
  stop(): Promise<number | string>;
  /** SIGTERM: `os._exit(0)`, so to ZooKeeper a crash (its session must expire). */
  term(): Promise<number | string>;
  /** SIGKILL. */
  kill9(): Promise<number | string>;
}

/**
 * Patches what the module comment lists, then runs Nodepool's launcher `main` with the
 * arguments after `-c` (argparse reads sys.argv[1:]).
 */
const LAUNCHER_BOOTSTRAP = `
import os, socket, sys
name = os.environ.get('NODEPOOL_PEER_HOSTNAME')
if name:
    socket.gethostname = lambda: name
import nodepool.launcher
original_init = nodepool.launcher.NodePool.__init__
def patched_init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    if os.environ.get('NODEPOOL_PEER_CLEANUP_INTERVAL'):
        self.cleanup_interval = float(os.environ['NODEPOOL_PEER_CLEANUP_INTERVAL'])
    if os.environ.get('NODEPOOL_PEER_DELETE_INTERVAL'):
        self.delete_interval = float(os.environ['NODEPOOL_PEER_DELETE_INTERVAL'])
nodepool.launcher.NodePool.__init__ = patched_init
from nodepool.cmd.launcher import main
sys.exit(main())
`;

let launcherCount = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pythonEnv(sourceRoot: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // PBR_VERSION: the extracted tree is not a git checkout, so pbr cannot derive a version.
  return { ...process.env, PBR_VERSION: '1.0.0', PYTHONPATH: sourceRoot, PYTHONUNBUFFERED: '1', ...extra };
}

/** The Python launcher components registered under `hostname` (parsed JSON bodies). */
export async function pythonLauncherComponents(zk: ZkClient, hostname?: string): Promise<Array<Record<string, unknown>>> {
  const dir = '/nodepool/components/launcher';
  if (!(await zk.exists(dir))) return [];
  const bodies = await Promise.all((await zk.getChildren(dir)).map(async (child) => {
    try {
      return JSON.parse((await zk.get(`${dir}/${child}`)).data?.toString() ?? 'null') as Record<string, unknown> | null;
    } catch {
      return null; // gone between the listing and the read
    }
  }));
  return bodies.filter((b): b is Record<string, unknown> =>
    !!b && !String(b.version ?? '').endsWith(OUR_VERSION_SUFFIX) && (hostname === undefined || b.hostname === hostname));
}

/**
 * Starts `nodepool-launcher -c CONFIG -d --no-webapp -p PIDFILE` from the source root and waits
 * until its launcher component is `running` (its static providers have registered their slots
 * by then: that happens while the config is loaded, before the main loop). Fails with its log if
 * it exits first. It is SIGKILLed if the jest worker exits without stopping it.
 */
export async function startPythonLauncher(opts: PythonLauncherOptions): Promise<PythonLauncher> {
  const hostname = opts.hostname ?? `python-peer-${process.pid}-${++launcherCount}`;
  const pidFile = path.join(os.tmpdir(), `nodepool-ts-peer-${hostname}.pid`);
  const child = spawn(PYTHON, ['-c', LAUNCHER_BOOTSTRAP, '-c', opts.configFile, '-d', '--no-webapp', '-p', pidFile], {
    cwd: opts.sourceRoot,
    env: pythonEnv(opts.sourceRoot, {
      NODEPOOL_PEER_HOSTNAME: hostname,
      NODEPOOL_PEER_CLEANUP_INTERVAL: opts.cleanupIntervalSec?.toString() ?? '',
      NODEPOOL_PEER_DELETE_INTERVAL: opts.deleteIntervalSec?.toString() ?? '',
      ...opts.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => {
    process.removeListener('exit', killOnExit);
    fs.rmSync(pidFile, { force: true });
    resolve(code ?? signal ?? 'unknown');
  }));
  const signal = (sig: NodeJS.Signals, graceMs?: number) => async (): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    if (graceMs === undefined) return exit;
    // See the module comment: the SIGINT handler can hang; a test must not.
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    return exit.finally(() => clearTimeout(timer));
  };

  const end = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Python launcher ${hostname} exited (${child.exitCode ?? child.signalCode}) before running:\n${output.slice(-4000)}`);
    }
    const comps = await pythonLauncherComponents(opts.zk, hostname);
    if (comps.some((c) => c.state === 'running')) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`Python launcher ${hostname} did not register as running:\n${output.slice(-4000)}`);
    }
    await sleep(100);
  }
  return { pid: child.pid!, hostname, log: () => output, exit, stop: signal('SIGINT', opts.stopGraceMs ?? 15_000), term: signal('SIGTERM'), kill9: signal('SIGKILL') };
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs Python's `nodepool -c CONFIG ARGS...` from the source root. */
export async function runPythonCli(sourceRoot: string, configFile: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const bootstrap = 'import sys; from nodepool.cmd.nodepoolcmd import main; sys.exit(main())';
  return runChild(PYTHON, ['-c', bootstrap, '-c', configFile, ...args], sourceRoot, pythonEnv(sourceRoot, opts.env), opts.timeoutMs);
}

/** Runs our `bin/nodepool -c CONFIG ARGS...` as a process. */
export async function runOurCli(configFile: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runChild(process.execPath, [path.join(ROOT, 'bin/nodepool'), '-c', configFile, ...args], ROOT, { ...process.env, ...opts.env }, opts.timeoutMs);
}

function runChild(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
