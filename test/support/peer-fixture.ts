/**
 * What every test beside the real Python Nodepool shares: the skip decision, one ZooKeeper with
 * a plain and a TLS port, a client of ours with a cache, a temp dir for nodepool.yaml files, our
 * launchers and Python's, stopped after each test, and the check that Python's `nodepool list`
 * shows every record.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLauncher, type Launcher } from '../../src/launcher/create-launcher';
import type { LauncherEngineOptions } from '../../src/launcher/launcher-engine';
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from './capture-logger';
import {
  detectPeer, preparePeer, runPythonCli, startPeerZooKeeper, startPythonLauncher, writePeerConfig, type PeerZooKeeper,
  type PythonLauncher, type PythonLauncherOptions,
} from './nodepool-peer';
import { testSettings } from './test-settings';

/**
 * `describe` when the peer is there, else `describe.skip`, and detectPeer records why for the
 * summary reporter (CI sets NODEPOOL_TS_REQUIRE_PEER=1, and then a missing peer fails instead).
 */
export function describeWithPeer(name: string, fn: (fixture: PeerFixture) => void): void {
  const peer = detectPeer();
  const fixture = new PeerFixture(peer.available ? peer.tarball : '');
  (peer.available ? describe : describe.skip)(name, () => {
    beforeAll(() => fixture.open());
    afterEach(() => fixture.stopLaunchers());
    afterAll(() => fixture.close());
    fn(fixture);
  });
}

/** See the module comment. */
export class PeerFixture {
  pzk!: PeerZooKeeper;
  client!: ZkClient;
  zk!: NodepoolZk;
  /** The extracted Python Nodepool source. */
  source!: string;
  private tmp = '';
  private ours: Launcher[] = [];
  private pythons: PythonLauncher[] = [];

  constructor(private readonly tarball: string) {}

  async open(): Promise<void> {
    this.source = preparePeer(this.tarball);
    this.pzk = await startPeerZooKeeper();
    this.client = new ZkClient({ hosts: this.pzk.connectString });
    await this.client.connect();
    this.zk = new NodepoolZk(this.client, new CaptureLogger());
    await this.zk.startCache();
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-'));
  }

  /** Writes `<name>.yaml` (TLS ZooKeeper, `zookeeper-timeout`, then `body`) both sides read. */
  config(name: string, body: string, sessionTimeoutSec = 10): string {
    return writePeerConfig(path.join(this.tmp, `${name}.yaml`), this.pzk, body, sessionTimeoutSec);
  }

  /** Starts a launcher of ours in this process on `config`. */
  async startOurs(config: string, hostname = 'ts-launcher', engine: LauncherEngineOptions = {}): Promise<Launcher> {
    const launcher = await createLauncher(testSettings({ config, hostname, log: { level: 'warn' } }), { engine });
    this.ours.push(launcher);
    expect(launcher.configErrors).toEqual([]);
    await launcher.kernel.start();
    return launcher;
  }

  /** Starts a Python launcher on `config`. */
  async startPython(config: string, options: Partial<PythonLauncherOptions> = {}): Promise<PythonLauncher> {
    const python = await startPythonLauncher({ sourceRoot: this.source, configFile: config, zk: this.client, ...options });
    this.pythons.push(python);
    return python;
  }

  /** Kills the Python launchers, stops ours and empties the tree for the next test. */
  async stopLaunchers(): Promise<void> {
    await Promise.all(this.pythons.splice(0).map((p) => p.kill9()));
    await Promise.all(this.ours.splice(0).map((l) => l.kernel.stop()));
    for (const p of ['/nodepool/nodes', '/nodepool/requests', '/nodepool/requests-lock', '/nodepool/metastatic', '/nodepool/static']) {
      await this.client.deleteRecursive(p).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.stopLaunchers().catch(() => undefined);
    this.zk?.stopCache();
    await this.client?.close();
    await this.pzk?.stop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /**
   * Python's `nodepool list` exits 0 without a traceback and lists every node that is in
   * ZooKeeper both before and after it ran (launchers keep working meanwhile: one deleted or
   * registered while it ran may be missing).
   */
  async expectPythonListsAll(config: string): Promise<void> {
    const before = await this.client.getChildren('/nodepool/nodes');
    const list = await runPythonCli(this.source, config, ['list']);
    expect(list.stderr).not.toMatch(/Traceback/);
    expect(list.code).toBe(0);
    for (const id of before) {
      if (list.stdout.includes(id) || !(await this.client.exists(`/nodepool/nodes/${id}`))) continue;
      const node = await this.zk.getNode(id);
      if (node && node.state !== 'deleted') throw new Error(`Python's nodepool list lacks node ${id} (${node.provider} ${node.state})`);
    }
  }
}
