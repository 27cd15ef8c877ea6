/**
 * Ephemeral znodes that outlive sessions: component registrations. An ephemeral znode vanishes
 * with its session; Nodepool then creates a NEW sequential znode with the same content
 * (spec §2.3, CMP:170-171). The owning ZkClient calls {@link Registration.markLost} when a
 * session is lost and {@link Registration.recreate} once the next one is up.
 */
import type { EphemeralRegistration, ZkCreateOptions, ZnodeStat } from '../plugins/zookeeper';
import { NoNodeError, SessionExpiredError } from './zk-errors';

/** The client operations a registration needs. */
export interface RegistrationHost {
  create(path: string, data: Buffer, options: ZkCreateOptions): Promise<string>;
  set(path: string, data: Buffer, version: number): Promise<ZnodeStat>;
  delete(path: string, version?: number): Promise<void>;
  /** Forget this registration (no more re-creation). */
  forget(registration: Registration): void;
}

/** One ephemeral registration; see the module comment. */
export class Registration implements EphemeralRegistration {
  private currentPath: string | null = null;
  private currentVersion = -1;
  private removed = false;

  constructor(
    private readonly host: RegistrationHost,
    /** The path asked for (for sequential ones, the prefix the server appends to). */
    readonly requestedPath: string,
    private data: Buffer,
    readonly sequential: boolean,
  ) {}

  get path(): string | null {
    return this.currentPath;
  }

  get version(): number {
    return this.currentVersion;
  }

  /** True once unregistered. */
  get isRemoved(): boolean {
    return this.removed;
  }

  /** True while the znode needs (re-)creating. */
  get isPending(): boolean {
    return !this.removed && this.currentPath === null;
  }

  /** Creates the znode with the latest data (first time and after each session loss). */
  async recreate(): Promise<void> {
    if (this.removed) return;
    const path = await this.host.create(this.requestedPath, this.data, {
      ephemeral: true, sequential: this.sequential, makeParents: true,
    });
    this.currentPath = path;
    this.currentVersion = 0;
  }

  /** The session died: the znode is gone with it. */
  markLost(): void {
    this.currentPath = null;
    this.currentVersion = -1;
  }

  async update(data: Buffer): Promise<void> {
    if (this.removed) throw new Error(`registration ${this.requestedPath} was unregistered`);
    // Keep the data first: a re-creation racing with this write must use it.
    this.data = data;
    const path = this.currentPath;
    if (path === null) return;
    try {
      const stat = await this.host.set(path, data, this.currentVersion);
      if (this.currentPath === path) this.currentVersion = stat.version;
    } catch (err) {
      // The session was lost under us (or a new znode already replaced this one): the
      // re-created znode carries `data`, so nothing is lost.
      const replaced = this.currentPath !== path;
      if (replaced && (err instanceof NoNodeError || err instanceof SessionExpiredError)) return;
      throw err;
    }
  }

  async unregister(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.host.forget(this);
    const path = this.currentPath;
    this.currentPath = null;
    if (path === null) return;
    try {
      await this.host.delete(path);
    } catch (err) {
      if (!(err instanceof NoNodeError) && !(err instanceof SessionExpiredError)) throw err;
    }
  }
}
