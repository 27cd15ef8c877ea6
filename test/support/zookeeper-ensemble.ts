/**
 * A three-member ZooKeeper ensemble on loopback from the Debian package, for fault tests that
 * kill members. Each member has its own ports and data dir; {@link ZooKeeperEnsemble.kill} and
 * {@link ZooKeeperEnsemble.start} take one member down and bring it back with its data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DebianZooKeeper, debianZooKeeperAvailable, fourLetterWord, freePort, type ZooKeeperServer,
} from '../../src/cli/local-zookeeper';

/** See the module comment. Implements ZooKeeperServer so the engine harness can use it. */
export class ZooKeeperEnsemble implements ZooKeeperServer {
  readonly kind = 'debian' as const;
  readonly host = '127.0.0.1';

  private constructor(readonly members: DebianZooKeeper[], private readonly dirs: string[]) {}

  static available(): boolean {
    return debianZooKeeperAvailable();
  }

  /** Starts three members and waits until one leads and two follow. */
  static async start(): Promise<ZooKeeperEnsemble> {
    const ports: number[][] = [];
    for (let i = 0; i < 3; i++) ports.push([await freePort(), await freePort(), await freePort()]);
    const servers = ports.map(([, q, e]) => `127.0.0.1:${q}:${e}`);
    const dirs = ports.map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-zk-ens-')));
    const members = ports.map(([client], i) => new DebianZooKeeper(client, undefined, dirs[i], undefined, false, { myid: i + 1, servers }));
    const ensemble = new ZooKeeperEnsemble(members, dirs);
    try {
      await Promise.all(members.map((m) => m.start()));
      await ensemble.waitForQuorum(3);
    } catch (err) {
      await ensemble.stop();
      throw err;
    }
    return ensemble;
  }

  get port(): number {
    return this.members[0].port;
  }

  /** Every member's client address. */
  get connectString(): string {
    return this.members.map((m) => m.connectString).join(',');
  }

  /** `leader`, `follower`, or '' when the member does not serve (down, or no quorum). */
  async mode(i: number): Promise<string> {
    const out = await fourLetterWord(this.host, this.members[i].port, 'srvr', 1000);
    return /Mode: (\w+)/.exec(out)?.[1] ?? '';
  }

  /** Index of the leader, or -1. */
  async leader(): Promise<number> {
    for (let i = 0; i < this.members.length; i++) if ((await this.mode(i)) === 'leader') return i;
    return -1;
  }

  /** Waits until `n` members serve, one of them as leader. */
  async waitForQuorum(n: number, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const modes = await Promise.all(this.members.map((_, i) => this.mode(i)));
      if (modes.filter((m) => m === 'leader').length === 1 && modes.filter((m) => m === 'leader' || m === 'follower').length >= n) return;
      if (Date.now() > end) throw new Error(`ensemble not serving with ${n} members: ${JSON.stringify(modes)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILL one member, keeping its data. */
  async killMember(i: number): Promise<void> {
    await this.members[i].kill();
  }

  /** Starts a killed member again. */
  async startMember(i: number): Promise<void> {
    await this.members[i].restart();
  }

  async kill(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
  }

  async restart(): Promise<void> {
    await Promise.all(this.members.map((m) => m.restart()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop().catch(() => undefined)));
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}
