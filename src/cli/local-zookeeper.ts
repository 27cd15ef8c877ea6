/**
 * A ZooKeeper server of our own on loopback, from the Debian `zookeeper` package (Java): for the
 * quickstart when no ZooKeeper is configured, and for the test harness. Runs on a free port with a
 * temporary data dir, and `stop()` removes it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Server-side TLS material for a `secureClientPort`. */
export interface ZooKeeperTlsFiles {
  /** PEM file with the server's certificate followed by its private key. */
  serverKeyAndCert: string;
  /** PEM file with the CA that signed the client certificates. */
  ca: string;
}

/** A running ZooKeeper server. */
export interface ZooKeeperServer {
  /** `127.0.0.1:<port>` of the plain client port. */
  readonly connectString: string;
  readonly host: string;
  readonly port: number;
  /** The TLS client port when started with `tls`. */
  readonly securePort?: number;
  /** How the server runs: the Debian package's server, or a container (tests). */
  readonly kind: 'debian' | 'container';
  /** The server's process id while it runs here (not for a container); benchmarks read its CPU. */
  readonly pid?: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), keeping its data, for crash tests. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports with the same data. */
  restart(): Promise<void>;
}

const DEBIAN_JAR = '/usr/share/java/zookeeper.jar';
/** The Debian server's classpath plus the Netty jars its TLS port needs (see DESIGN.md). */
const TLS_JARS = [
  'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common', 'netty-buffer',
  'netty-common', 'netty-handler', 'netty-transport', 'netty-transport-native-epoll',
].map((name) => `/usr/share/java/${name}.jar`);

export const INSTALL_HINT =
  'ZooKeeper is not installed: run `apt-get install -y zookeeper` (Debian package; needs Java).';

/** Is the Debian ZooKeeper server installed here? */
export function debianZooKeeperAvailable(): boolean {
  return fs.existsSync(DEBIAN_JAR);
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends a four-letter word and returns the reply, or '' on any error. */
export async function fourLetterWord(host: string, port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const sock = net.connect({ host, port });
    const done = (): void => {
      sock.destroy();
      resolve(out);
    };
    sock.setTimeout(timeoutMs, done);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => (out += d.toString()));
    sock.on('end', done);
    sock.on('error', done);
  });
}

async function waitForImok(host: string, port: number, proc: ChildProcess | null, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) {
      throw new Error(`ZooKeeper exited with code ${proc.exitCode}: ${log()}`);
    }
    if ((await fourLetterWord(host, port, 'ruok', 500)) === 'imok') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ZooKeeper did not answer ruok on ${host}:${port} within ${timeoutMs} ms: ${log()}`);
}

/** The Debian package's server run as a child process (see {@link startLocalZooKeeper}). */
export class DebianZooKeeper implements ZooKeeperServer {
  readonly host = '127.0.0.1';
  readonly kind = 'debian' as const;
  private proc: ChildProcess | null = null;
  private output = '';

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  constructor(
    readonly port: number,
    readonly securePort: number | undefined,
    private readonly dir: string,
    private readonly tls: ZooKeeperTlsFiles | undefined,
    // Tests start many short-lived servers: the C1-only JIT starts fastest. A benchmark wants
    // the server at full speed, as a production ZooKeeper runs.
    private readonly fullJit = false,
    /** Member of an ensemble (fault tests): its id and every member's `host:quorumPort:electionPort`. */
    private readonly quorum?: { myid: number; servers: string[] },
    /**
     * fsync each commit, as a production ZooKeeper does. Tests turn it off: the data dir is
     * temporary, a killed server keeps what it wrote (the OS has it), and without it a write
     * takes half the time on a busy disk.
     */
    private readonly fsync = true,
  ) {}

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const cfg = path.join(this.dir, 'zoo.cfg');
    if (!fs.existsSync(cfg)) fs.writeFileSync(cfg, this.config());
    const classpath = [this.dir, DEBIAN_JAR, ...(this.tls ? TLS_JARS : [])].join(':');
    fs.writeFileSync(path.join(this.dir, 'log4j.properties'), 'log4j.rootLogger=WARN, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\nlog4j.appender.CONSOLE.layout.ConversionPattern=%d %p %m%n\n');
    this.output = '';
    this.proc = spawn(
      'java',
      [
        ...(this.fullJit ? ['-Xmx1g'] : ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']), '-Xshare:auto',
        '-Dzookeeper.admin.enableServer=false', '-Dzookeeper.4lw.commands.whitelist=*',
        `-Dlog4j.configuration=file:${path.join(this.dir, 'log4j.properties')}`,
        '-cp', classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg,
      ],
      // Its own process group: a Ctrl-C at the terminal must reach the launcher only, which then
      // stops cleanly while ZooKeeper is still up, and stops ZooKeeper last.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const proc = this.proc;
    // ...but it must not outlive us if we crash.
    const killOnExit = (): void => void proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    proc.once('exit', () => process.removeListener('exit', killOnExit));
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-8000);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    await waitForImok(this.host, this.port, this.proc, 30000, () => this.output);
  }

  private config(): string {
    const lines = [
      'tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${path.join(this.dir, 'data')}`,
      `clientPort=${this.port}`, `clientPortAddress=${this.host}`, 'maxClientCnxns=0',
      'minSessionTimeout=1000', 'maxSessionTimeout=60000', 'admin.enableServer=false',
      '4lw.commands.whitelist=*',
    ];
    if (!this.fsync) lines.push('forceSync=no');
    if (this.quorum) {
      this.quorum.servers.forEach((s, i) => lines.push(`server.${i + 1}=${s}`));
      fs.mkdirSync(path.join(this.dir, 'data'), { recursive: true });
      fs.writeFileSync(path.join(this.dir, 'data', 'myid'), `${this.quorum.myid}\n`);
    }
    if (this.tls) {
      lines.push(
        `secureClientPort=${this.securePort}`,
        'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
        `ssl.keyStore.location=${this.tls.serverKeyAndCert}`, 'ssl.keyStore.type=PEM',
        `ssl.trustStore.location=${this.tls.ca}`, 'ssl.trustStore.type=PEM',
        'ssl.clientAuth=need',
      );
    }
    return lines.join('\n') + '\n';
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.terminate('SIGTERM');
    await this.start();
  }

  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill(signal);
    });
  }
}

/** Starts the Debian ZooKeeper server on free loopback ports; throws {@link INSTALL_HINT} if absent. */
export async function startLocalZooKeeper(options: { tls?: ZooKeeperTlsFiles; fullJit?: boolean; fsync?: boolean } = {}): Promise<ZooKeeperServer> {
  if (!debianZooKeeperAvailable()) throw new Error(INSTALL_HINT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-zk-'));
  const port = await freePort();
  const securePort = options.tls ? await freePort() : undefined;
  const server = new DebianZooKeeper(port, securePort, dir, options.tls, options.fullJit ?? false, undefined, options.fsync ?? true);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
