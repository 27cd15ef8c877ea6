/**
 * Test harness for the metastatic driver at provider level on a real ZooKeeper: a static
 * launcher (createLauncher) that serves the backing label end to end, metastatic providers
 * ("launchers") on their own ZooKeeper sessions with an injectable clock, and helpers that
 * create, lock, launch and delete metastatic nodes with the SDK's NodeLauncher / NodeDeleter,
 * the way the engine's request handler and deleted-node worker will.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import type { ProviderContext } from '../../src/plugins/driver';
import { NodeDeleter } from '../../src/plugins/node-deleter';
import { NodeLauncher, type LaunchResult } from '../../src/plugins/node-launcher';
import type { NodepoolConfig, ProviderConfig } from '../../src/plugins/nodepool-config';
import { parseConfigYaml } from '../../src/plugins/config-yaml';
import { validateProviderSection } from '../../src/plugins/provider-section';
import { Node } from '../../src/zk/models/node';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { MetastaticProvider } from '../../plugins/metastatic/src/metastatic-provider';
import { metastaticProviderSchema, metastaticPoolLabels } from '../../plugins/metastatic/src/metastatic-provider-schema';
import { parseBackingUserData, type BackingUserData } from '../../plugins/metastatic/src/backing-node-data';
import type { SlotAllocatorOptions } from '../../plugins/metastatic/src/slot-allocator';
import { CaptureLogger } from './capture-logger';
import { testSettings } from './test-settings';
import { startZooKeeper, type ZooKeeperServer } from './zookeeper-server';

/** Name of the metastatic provider in every test. */
export const META = 'meta';
/** Owner id of {@link META}. */
export const OWNER = `NodePool:metastatic:${META}`;

import { waitUntil } from './engine-harness';

export { waitUntil };

/** A settable clock in epoch seconds shared by the metastatic providers of a test. */
export class TestClock {
  t = Math.floor(Date.now() / 1000);
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds;
  }
}

/** The metastatic provider section used by the tests (labels per test). */
export function metastaticConfig(labelsYaml: string, extra = ''): ProviderConfig {
  const text = `name: ${META}\ndriver: metastatic\n${extra}pools:\n  - name: main\n    node-attributes:\n      metaattr: meta\n    labels:\n${labelsYaml}`;
  const driver = { name: 'metastatic', providerSchema: metastaticProviderSchema, poolLabels: metastaticPoolLabels };
  const { config, issues } = validateProviderSection(driver, parseConfigYaml(text, 'nodepool.yaml'), 0, 'nodepool.yaml');
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return config;
}

/** One "launcher" running the metastatic provider: its own session, provider and logger. */
export interface MetaLauncher {
  client: ZkClient;
  zk: NodepoolZk;
  provider: MetastaticProvider;
  logger: CaptureLogger;
}

/** The shared fixture of a metastatic test file. */
export class MetastaticHarness {
  client!: ZkClient;
  zk!: NodepoolZk;
  private tmp = '';
  private staticLaunchers: Launcher[] = [];
  private metas: MetaLauncher[] = [];

  constructor(private readonly server: () => ZooKeeperServer) {}

  async setup(): Promise<void> {
    this.client = new ZkClient({ hosts: this.server().connectString });
    await this.client.connect();
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'metastatic-'));
  }

  /** Empties the tree between tests. */
  async reset(): Promise<void> {
    await Promise.all(this.staticLaunchers.map((l) => l.kernel.stop()));
    this.staticLaunchers = [];
    await Promise.all(this.metas.map(async (m) => { await m.provider.stop(); await m.client.close(); }));
    this.metas = [];
    for (const p of ['/nodepool/nodes', '/nodepool/requests', '/nodepool/requests-lock', '/nodepool/metastatic']) await this.client.deleteRecursive(p);
  }

  async teardown(): Promise<void> {
    await this.reset();
    await this.client?.close();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /**
   * Starts a launcher whose static provider serves `backing` (and any extra labels) on `hosts`;
   * waits until every host has a ready node.
   */
  async startStatic(hosts: string[], options: { port?: number; labels?: string[] } = {}): Promise<Launcher> {
    const labels = options.labels ?? ['backing'];
    const port = options.port ? `\n            connection-port: ${options.port}` : '';
    const nodes = hosts.map((h) => `\n          - name: ${h}\n            labels: [${labels.join(', ')}]\n            host-key-checking: false${port}`).join('');
    const file = path.join(this.tmp, `static-${this.staticLaunchers.length}.yaml`);
    const server = this.server();
    fs.writeFileSync(
      file,
      `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels:\n${labels.map((l) => `  - name: ${l}\n`).join('')}` +
        `providers:\n  - name: static-backing\n    driver: static\n    pools:\n      - name: main\n        node-attributes:\n          backattr: back\n          metaattr: back\n        nodes:${nodes}\n`,
    );
    const launcher = await createLauncher(testSettings({ config: file, hostname: 'static-launcher' }), {
      engine: { poolPollIntervalMs: 100, deletedNodeIntervalMs: 100 },
    });
    this.staticLaunchers.push(launcher);
    if (launcher.configErrors.length > 0) throw new Error(launcher.configErrors.join('\n'));
    await launcher.kernel.start();
    await waitUntil('ready static nodes', async () => (await this.nodesOf('static-backing', 'ready')).length >= hosts.length);
    return launcher;
  }

  /** A metastatic "launcher" on its own ZooKeeper session; `start()` runs recovery. */
  async startMeta(config: ProviderConfig, clock: TestClock, start = true, options: SlotAllocatorOptions = {}): Promise<MetaLauncher> {
    const client = new ZkClient({ hosts: this.server().connectString });
    await client.connect();
    const logger = new CaptureLogger();
    const zk = new NodepoolZk(client, logger);
    const context = { zk, logger, tracer: undefined, metrics: undefined, config: {} as NodepoolConfig } as unknown as ProviderContext;
    const provider = new MetastaticProvider(config, context, { now: clock.now, lockTimeoutSec: 10, ...options });
    if (start) await provider.start();
    const meta = { client, zk, provider, logger };
    this.metas.push(meta);
    return meta;
  }

  /** Creates and locks a `building` node for `label` as the request handler would. */
  async buildingNode(meta: MetaLauncher, label: string): Promise<Node> {
    const node = new Node();
    // `init` until locked, as the engine does: an unlocked `building` node is a dead launcher's.
    node.state = 'init';
    node.type = [label];
    node.provider = META;
    node.pool = 'main';
    node.allocated_to = '200-0000000001';
    node.launcher = 'test-launcher';
    await meta.zk.createNode(node);
    if (!(await meta.zk.lockNode(node))) throw new Error('could not lock the new node');
    node.state = 'building';
    await meta.zk.storeNode(node);
    return node;
  }

  /** Launches a metastatic node with the SDK's NodeLauncher. */
  async launch(meta: MetaLauncher, label: string): Promise<{ node: Node; result: LaunchResult }> {
    const node = await this.buildingNode(meta, label);
    const pool = meta.provider.config.pools[0];
    const result = await new NodeLauncher({
      zk: meta.zk, provider: meta.provider, node, label, pool, settings: meta.provider.launchSettings(label, pool),
      logger: meta.logger, pollInterval: 20,
    }).run();
    return { node, result };
  }

  /** Deletes a node (locked by `launch`) with the SDK's NodeDeleter. */
  async remove(meta: MetaLauncher, node: Node): Promise<void> {
    const result = await new NodeDeleter({ zk: meta.zk, provider: meta.provider, node, logger: meta.logger, pollInterval: 20 }).run();
    if (!result.deleted) throw result.error ?? new Error('delete failed');
  }

  async nodesOf(provider: string, state?: string): Promise<Node[]> {
    return (await this.zk.getNodes()).filter((n) => n.provider === provider && (state === undefined || n.state === state));
  }

  /** The backing node's user_data, state and lock contenders (and whether the lock is persistent). */
  async backing(id: string): Promise<{ state: string; data: BackingUserData | undefined; contenders: string[]; persistent: boolean } | undefined> {
    const node = await this.zk.getNode(id);
    if (!node) return undefined;
    const lockDir = `/nodepool/nodes/${id}/lock`;
    // The backing launcher may delete a released node while we look: that reads as gone.
    const children = await this.client.getChildren(lockDir).catch((err: unknown) => {
      if ((err as Error).name === 'NoNodeError' || (err as { code?: number }).code === -101) return [];
      throw err;
    });
    if (!(await this.zk.getNode(id))) return undefined;
    const stats = await Promise.all(children.map((c) => this.client.exists(`${lockDir}/${c}`)));
    return {
      state: node.state,
      data: parseBackingUserData(node.user_data, OWNER),
      contenders: await this.zk.getNodeLockContenders(id),
      persistent: stats.length > 0 && stats.every((s) => s !== null && !s.ephemeral),
    };
  }

  /** (backing node, slot) of every metastatic node in ZooKeeper. */
  async placements(): Promise<Array<{ node: string; backing: string | null; slot: number | null; state: string }>> {
    return (await this.nodesOf(META)).map((n) => {
      const dd = (n.driver_data ?? {}) as { backing_node?: string | null; slot?: number | null };
      return { node: n.id as string, backing: dd.backing_node ?? null, slot: dd.slot ?? null, state: n.state };
    });
  }
}

/**
 * A {@link MetastaticHarness} on a ZooKeeper of the test file's own, set up and torn down by
 * jest's hooks (call it at the top level of the file).
 */
export function metastaticTestFile(): MetastaticHarness {
  let server: ZooKeeperServer | undefined;
  const h = new MetastaticHarness(() => server as ZooKeeperServer);
  beforeAll(async () => {
    server = await startZooKeeper();
    await h.setup();
  });
  afterEach(async () => h.reset());
  afterAll(async () => {
    await h.teardown();
    await server?.stop();
  });
  return h;
}
