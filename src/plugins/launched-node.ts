/**
 * What a completed launch writes onto its node, shared by the {@link NodeLauncher} and the
 * engine's instant launches (`InstantLaunchBatch`), so a node is the same whichever way it came.
 * Internal to the kernel: not exported from the SDK index.
 */
import type { Provider } from './driver';
import type { NodeLaunchSettings } from './node-launch-settings';
import type { PoolConfig } from './nodepool-config';
import type { Instance } from './state-machine';
import type { Node } from './models/node';

/** Fields a launch fills before the first machine. */
export function prepareLaunchedNode(node: Node, provider: Provider, pool: PoolConfig, label: string, settings: NodeLaunchSettings): void {
  node.provider = provider.name;
  node.pool = pool.name;
  if (node.type.length === 0) node.type = [label];
  if (settings.imageId !== undefined) node.image_id = settings.imageId;
  if (settings.username !== undefined) node.username = settings.username;
  if (settings.pythonPath !== undefined) node.python_path = settings.pythonPath;
  if (settings.shellType !== undefined) node.shell_type = settings.shellType;
  node.connection_type = settings.connectionType;
  node.connection_port = settings.connectionPort;
  node.resources = (provider.quotaNeededByLabel?.(label, pool).toResources()) ?? { instances: 1 };
  if (node.attributes === null && pool.nodeAttributes) node.attributes = { ...pool.nodeAttributes };
}

/** Copies a completed instance onto the node. */
export function applyInstance(node: Node, instance: Instance): void {
  node.external_id = instance.externalId ?? node.external_id;
  node.interface_ip = instance.interfaceIp ?? null;
  node.public_ipv4 = instance.publicIpv4 ?? null;
  node.private_ipv4 = instance.privateIpv4 ?? null;
  node.public_ipv6 = instance.publicIpv6 ?? null;
  node.host_id = instance.hostId ?? null;
  node.cloud = instance.cloud ?? null;
  node.region = instance.region ?? null;
  node.az = instance.az ?? node.az;
  node.driver_data = instance.driverData ?? null;
  if (instance.attributes) node.attributes = { ...(node.attributes ?? {}), ...instance.attributes };
  const c = instance.connection;
  if (c) {
    if (c.username !== undefined) node.username = c.username;
    if (c.connectionPort !== undefined) node.connection_port = c.connectionPort;
    if (c.connectionType !== undefined) node.connection_type = c.connectionType;
    if (c.pythonPath !== undefined) node.python_path = c.pythonPath;
    if (c.shellType !== undefined) node.shell_type = c.shellType;
    // Used as they are when no scan runs (metastatic copies the backing node's keys).
    if (c.hostKeys !== undefined) node.host_keys = [...c.hostKeys];
    if (c.slot !== undefined) node.slot = c.slot;
  }
}
