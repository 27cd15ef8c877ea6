/**
 * Shared scaffolding of the engine tests: one real ZooKeeper per test file, launchers built from
 * a nodepool.yaml body with the repo's plugins plus the SDK's fake driver, a Zuul-style
 * requestor, and a polling wait. Everything started is stopped by {@link EngineHarness.stopLaunchers}
 * and {@link EngineHarness.close}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import type { LauncherEngineOptions } from '../../src/launcher/launcher-engine';
import type { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from './capture-logger';
import { REPO_PLUGINS, testSettings } from './test-settings';
import { ZuulRequestor } from './zuul-requestor';
import { startZooKeeper, type ZooKeeperServer } from './zookeeper-server';
import { TEST_ENGINE_TIMINGS } from '../../src/cli/test-launcher-main';

/** Plugin root holding the SDK's fake driver as a plugin. */
export const TEST_PLUGINS = path.resolve(__dirname, 'plugins');

/**
 * Fast engine timings for tests (a watch still has to wake the pools): the same periods as the
 * SDK test kit's launcher (`nodepool-test-launcher`), so out-of-tree drivers are tested as ours are.
 */
export const FAST_ENGINE: LauncherEngineOptions = TEST_ENGINE_TIMINGS;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (returned) or the time is up. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** See the module comment. */
export class EngineHarness {
  server!: ZooKeeperServer;
  client!: ZkClient;
  zk!: NodepoolZk;
  zuul!: ZuulRequestor;
  tmp!: string;
  launchers: Launcher[] = [];

  /** Starts a ZooKeeper server, or uses `server` (an ensemble: its connectString lists all). */
  async open(server?: ZooKeeperServer): Promise<void> {
    this.server = server ?? (await startZooKeeper());
    this.client = new ZkClient({ hosts: this.server.connectString });
    await this.client.connect();
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    this.zuul = new ZuulRequestor(this.zk, { pollMs: 200 });
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  }

  /** Clears nodes, requests and components between tests. */
  async reset(): Promise<void> {
    await this.stopLaunchers();
    for (const p of ['/nodepool/nodes', '/nodepool/requests', '/nodepool/requests-lock', '/nodepool/nodes-lock']) {
      await this.client.deleteRecursive(p).catch(() => undefined);
    }
  }

  async stopLaunchers(): Promise<void> {
    await Promise.all(this.launchers.map((l) => l.kernel.stop()));
    this.launchers = [];
  }

  async close(): Promise<void> {
    await this.stopLaunchers();
    await this.client?.close();
    await this.server?.stop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Writes `body` (nodepool.yaml without zookeeper-servers) to `<name>.yaml`; returns the path. */
  writeConfig(name: string, body: string): string {
    const file = path.join(this.tmp, `${name}.yaml`);
    const servers = this.server.connectString.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return `  - host: ${host}\n    port: ${port}\n`;
    });
    fs.writeFileSync(file, `zookeeper-servers:\n${servers.join('')}${body}`);
    return file;
  }

  /**
   * Starts a launcher on `body`; its config errors must be empty. Plugins: the repo's and the
   * SDK's fake driver, unless `settings.plugins` names others.
   */
  async startLauncher(name: string, body: string, engine: LauncherEngineOptions = {}, hostname = name, settings: Parameters<typeof testSettings>[0] = {}): Promise<Launcher> {
    const file = this.writeConfig(name, body);
    const launcher = await createLauncher(testSettings({ ...settings, config: file, hostname, plugins: { dirs: [REPO_PLUGINS, TEST_PLUGINS], ...settings.plugins } }), {
      engine: { ...FAST_ENGINE, ...engine },
    });
    this.launchers.push(launcher);
    expect(launcher.configErrors).toEqual([]);
    await launcher.kernel.start();
    return launcher;
  }

  /** Nodes matching `filter`. */
  async nodes(filter: (n: Node) => boolean = () => true): Promise<Node[]> {
    return (await this.zk.getNodes()).filter(filter);
  }
}
