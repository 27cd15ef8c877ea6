/**
 * A real ZooKeeper server for tests and benchmarks. Uses testcontainers when a container runtime
 * answers a quick ping; otherwise runs the Debian `zookeeper` package's server (see
 * src/cli/local-zookeeper.ts). Always cleaned up by `stop()`.
 */
import fs from 'node:fs';
import http from 'node:http';
import {
  fourLetterWord, startLocalZooKeeper, type ZooKeeperServer, type ZooKeeperTlsFiles,
} from '../../src/cli/local-zookeeper';

export { freePort, fourLetterWord, INSTALL_HINT, type ZooKeeperServer, type ZooKeeperTlsFiles } from '../../src/cli/local-zookeeper';

export interface StartOptions {
  /** Also serve TLS on a `secureClientPort` (Debian server only). */
  tls?: ZooKeeperTlsFiles;
  /** Force the Debian server even where a container runtime answers. */
  local?: boolean;
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
  for (let i = 0; i < 300 && (await fourLetterWord(host, port, 'ruok', 500)) !== 'imok'; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
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

/** Starts a ZooKeeper server; see the module comment for how. */
export async function startZooKeeper(options: StartOptions = {}): Promise<ZooKeeperServer> {
  if (!options.tls && !options.local && (await containerRuntimeAnswers())) {
    return startContainer();
  }
  // No fsync per commit: the data dir is thrown away, and the suite's writes take half the time.
  return startLocalZooKeeper({ tls: options.tls, fsync: false });
}
