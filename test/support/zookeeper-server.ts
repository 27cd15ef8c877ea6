/**
 * A real ZooKeeper server for tests, benchmarks and the quickstart. Uses testcontainers when a
 * container runtime answers a quick ping; otherwise runs the Debian `zookeeper` package's server
 * (Java) on a free loopback port with a temporary data dir. Always cleaned up by `stop()`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';

export interface ZooKeeperTlsFiles {
  /** PEM file with the server's certificate followed by its private key. */
  serverKeyAndCert: string;
  /** PEM file with the CA that signed the client certificates. */
  ca: string;
}

export interface StartOptions {
  /** Also serve TLS on a `secureClientPort` (Debian server only). */
  tls?: ZooKeeperTlsFiles;
  /** Server tick time in ms; the session timeout range is 2..20 ticks. */
  tickTime?: number;
  /** Force the Debian server even where a container runtime answers. */
  local?: boolean;
}

export interface ZooKeeperServer {
  /** `127.0.0.1:<port>` of the plain client port. */
  readonly connectString: string;
  readonly host: string;
  readonly port: number;
  /** The TLS client port when started with `tls`. */
  readonly securePort?: number;
  /** How the server runs: `debian` or `container`. */
  readonly kind: 'debian' | 'container';
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

/** Asks a Docker engine for `/_ping` with a short timeout (a silent socket must not hang us). */
async function containerRuntimeAnswers(): Promise<boolean> {
  if (process.env.NODEPOOL_TS_TEST_NO_CONTAINERS) return false;
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice('unix://'.length)
    : '/var/run/docker.sock';
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return false;
  if (!fs.existsSync(socketPath)) return false;
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
  });
}

async function startContainer(): Promise<ZooKeeperServer> {
  // Loaded lazily: testcontainers is heavy and only needed where a runtime exists.
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('zookeeper:3.8')
    .withExposedPorts(2181)
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(2181);
  await waitForImok(host, port, null, 30000, () => 'container');
  return {
    connectString: `${host}:${port}`,
    host,
    port,
    kind: 'container',
    stop: async () => void (await container.stop()),
    kill: async () => void (await container.stop({ remove: false })),
    restart: async () => void (await container.restart()),
  };
}

class DebianZooKeeper implements ZooKeeperServer {
  readonly host = '127.0.0.1';
  readonly kind = 'debian' as const;
  private proc: ChildProcess | null = null;
  private output = '';

  constructor(
    readonly port: number,
    readonly securePort: number | undefined,
    private readonly dir: string,
    private readonly tls: ZooKeeperTlsFiles | undefined,
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
        '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto',
        '-Dzookeeper.admin.enableServer=false', '-Dzookeeper.4lw.commands.whitelist=*',
        `-Dlog4j.configuration=file:${path.join(this.dir, 'log4j.properties')}`,
        '-cp', classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
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

/** Starts a ZooKeeper server; see the module comment for how. */
export async function startZooKeeper(options: StartOptions = {}): Promise<ZooKeeperServer> {
  if (!options.tls && !options.local && (await containerRuntimeAnswers())) {
    return startContainer();
  }
  if (!debianZooKeeperAvailable()) throw new Error(INSTALL_HINT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-zk-'));
  const port = await freePort();
  const securePort = options.tls ? await freePort() : undefined;
  const server = new DebianZooKeeper(port, securePort, dir, options.tls);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
