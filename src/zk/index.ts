/** The ZooKeeper layer: client, kazoo-compatible lock, Nodepool tree, models. */
export * from './zk-errors';
export { ZkClient, type ZkClientOptions } from './zk-client';
export { ZkTransaction } from './zk-transaction';
export { KazooLock, LockCancelledError } from './kazoo-lock';
export { forceUnlock, contenderSequence, sortContenders } from './lock-contenders';
export { NodepoolZk } from './nodepool-zk';
export * from './nodepool-paths';
export type { ZkTlsOptions } from './tls-connection';
export * from './models/index';
