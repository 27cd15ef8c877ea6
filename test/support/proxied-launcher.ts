/**
 * An in-process launcher whose ZooKeeper connection runs through a {@link TcpProxy}, for the
 * session fault tests: the proxy black-holes its traffic (a network cut) and
 * {@link expireSession} makes the server expire its session on purpose.
 */
import zookeeper from 'node-zookeeper-client';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';
import { FAST_ENGINE, TEST_PLUGINS, type EngineHarness } from './engine-harness';
import { TcpProxy } from './tcp-proxy';
import { REPO_PLUGINS, testSettings } from './test-settings';

/** A launcher behind its own proxy. */
export interface ProxiedLauncher {
  launcher: Launcher;
  proxy: TcpProxy;
  /** The launcher's own ZooKeeper client. */
  client: ZkClient;
}

/** Starts a launcher on `body` whose ZooKeeper traffic goes through a new proxy. */
export async function startProxiedLauncher(h: EngineHarness, name: string, body: string, sessionTimeoutSec: number): Promise<ProxiedLauncher> {
  const proxy = await TcpProxy.start(h.server.host, h.server.port);
  const file = h.writeConfig(name, body);
  const launcher = await createLauncher(
    testSettings({ config: file, hostname: name, plugins: { dirs: [REPO_PLUGINS, TEST_PLUGINS] }, zookeeper: { hosts: proxy.address, sessionTimeout: sessionTimeoutSec } }),
    { engine: FAST_ENGINE },
  );
  // The harness stops it with the others.
  h.launchers.push(launcher);
  if (launcher.configErrors.length) throw new Error(`config errors: ${JSON.stringify(launcher.configErrors)}`);
  await launcher.kernel.start();
  const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  return { launcher, proxy, client };
}

/**
 * Makes the server expire `client`'s session: another connection takes the session over and
 * closes it, while the proxy black-holes the owner (else its fast reconnect would take the
 * session back before the close).
 */
export async function expireSession(h: EngineHarness, client: ZkClient, proxy: TcpProxy): Promise<void> {
  const creds = client.sessionCredentials();
  if (!creds) throw new Error('client has no session');
  proxy.pause();
  try {
    const thief = zookeeper.createClient(h.server.connectString, {
      sessionTimeout: 4000,
      retries: 0,
      ...({ sessionId: creds.id, sessionPassword: creds.password } as object),
    });
    await new Promise<void>((resolve) => {
      thief.once('connected', () => resolve());
      thief.connect();
    });
    await new Promise<void>((resolve) => {
      thief.once('disconnected', () => resolve());
      thief.close();
    });
  } finally {
    proxy.resume();
  }
}
