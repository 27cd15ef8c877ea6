// Placeholder owned by the ZooKeeper work: the SDK-level ZooKeeper interface and token.
export interface ZooKeeper {}
export const ZooKeeper: unique symbol = Symbol.for('nodepool-ts.ZooKeeper');
