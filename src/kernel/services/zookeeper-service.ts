import type { LifecycleContribution } from '../../plugins/lifecycle';
import type { Logger } from '../../plugins/logger';
import { NodepoolZk } from '../../zk/nodepool-zk';
import { ZkClient, type ZkClientOptions } from '../../zk/zk-client';

/** How long the first connection may take before the kernel's start fails. */
const CONNECT_TIMEOUT_MS = 15000;

/**
 * The kernel's ZooKeeper: one client (one session at a time, renewed after expiry) and the
 * Nodepool-level API on it. Connects on start, closes on stop, after every other service.
 */
export class ZooKeeperService implements LifecycleContribution {
  readonly name = 'zookeeper';
  readonly client: ZkClient;
  readonly zk: NodepoolZk;

  constructor(private readonly options: ZkClientOptions, private readonly logger: Logger) {
    const log = logger.child({ component: 'zookeeper' });
    this.client = new ZkClient({ ...options, logger: log });
    this.zk = new NodepoolZk(this.client, log);
  }

  async start(): Promise<void> {
    // Never log TLS material: only where we connect and whether TLS is on.
    this.logger.info('connecting to ZooKeeper', {
      hosts: this.options.hosts, chroot: this.options.chroot ?? null, tls: Boolean(this.options.tls),
    });
    try {
      await this.client.connect(CONNECT_TIMEOUT_MS);
    } catch (err) {
      await this.client.close().catch(() => undefined);
      throw new Error(`cannot connect to ZooKeeper at ${this.options.hosts}: ${(err as Error).message}`);
    }
    this.logger.info('connected to ZooKeeper', { session: this.client.sessionId });
  }

  async stop(): Promise<void> {
    await this.client.close();
  }
}
