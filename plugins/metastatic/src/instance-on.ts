/**
 * The instance a metastatic node gets in a slot of its backing node: the backing node's connection
 * data, our slot and node id (shared by the create machine and the one-transaction fulfilment).
 */
import type { Instance, Node, PoolConfig } from '@nodepool-ts/sdk';

/** Who asks for a slot. */
export interface SlotRequest {
  nodeId: string;
  label: string;
  /** `nodepool_node_id`, `nodepool_pool_name`, `nodepool_provider_name`. */
  metadata: Record<string, string>;
}

/** The instance of a node in `slot` of `backing` (spec §3.2; `adapter.py:200-207`). */
export function instanceOn(backing: Node, req: SlotRequest, slot: number, pool: PoolConfig): Instance {
  const port = Number(backing.connection_port);
  return {
    externalId: req.nodeId,
    metadata: { ...req.metadata },
    interfaceIp: backing.interface_ip,
    publicIpv4: backing.public_ipv4,
    privateIpv4: backing.private_ipv4,
    publicIpv6: backing.public_ipv6,
    cloud: backing.cloud,
    region: backing.region,
    az: backing.az,
    driverData: { metadata: { ...req.metadata }, backing_node: backing.id, slot, node: req.nodeId },
    // Backing attributes overlaid by the metastatic pool's (top-level keys, cb8366d70).
    attributes: { ...(backing.attributes ?? {}), ...(pool.nodeAttributes ?? {}) },
    connection: {
      username: backing.username,
      connectionPort: Number.isFinite(port) ? port : 22,
      connectionType: backing.connection_type,
      pythonPath: backing.python_path,
      shellType: backing.shell_type,
      // Used as they are when host-key-checking is off (d832d209b); a scan replaces them.
      hostKeys: [...backing.host_keys],
      slot,
    },
  };
}
