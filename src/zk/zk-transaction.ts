import type { ZkOp, ZkOpResult } from '../plugins/zookeeper';

/** Collects ops for one atomic multi (see ZkClient.transaction). */
export class ZkTransaction {
  private readonly ops: ZkOp[] = [];

  constructor(private readonly client: { multi(ops: ZkOp[]): Promise<ZkOpResult[]> }) {}

  /** Adds a create (empty data by default). */
  create(path: string, data?: Buffer, options: { ephemeral?: boolean; sequential?: boolean } = {}): this {
    this.ops.push({ op: 'create', path, data, ...options });
    return this;
  }

  /** Adds a data write; `version` -1 is unconditional. */
  set(path: string, data: Buffer, version = -1): this {
    this.ops.push({ op: 'set', path, data, version });
    return this;
  }

  /** Adds a delete; `version` -1 is unconditional. */
  delete(path: string, version = -1): this {
    this.ops.push({ op: 'delete', path, version });
    return this;
  }

  /** Adds a version check. */
  check(path: string, version: number): this {
    this.ops.push({ op: 'check', path, version });
    return this;
  }

  /** Runs the ops atomically. */
  commit(): Promise<ZkOpResult[]> {
    return this.client.multi([...this.ops]);
  }
}
