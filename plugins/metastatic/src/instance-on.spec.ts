import { Node, type PoolConfig } from '@nodepool-ts/sdk';
import { instanceOn } from './instance-on';

const pool: PoolConfig = { name: 'main', maxServers: 10, priority: 1, nodeAttributes: { metaattr: 'meta' }, labels: ['user-label'], raw: {} };

describe('instanceOn', () => {
  it('copies the backing node connection data and host keys, overlays pool attributes, and records the slot', () => {
    const b = new Node('0000000007');
    Object.assign(b, {
      interface_ip: '10.0.0.5', public_ipv4: '1.2.3.4', private_ipv4: '10.0.0.5', public_ipv6: '::1', cloud: 'c', region: 'r', az: 'z',
      username: 'ubuntu', connection_port: 2222, connection_type: 'ssh', python_path: '/usr/bin/python3', shell_type: 'sh',
      host_keys: ['ssh-ed25519 AAAA'], attributes: { backattr: 'back', metaattr: 'back' },
    });
    const metadata = { nodepool_node_id: '0000000009', nodepool_pool_name: 'main', nodepool_provider_name: 'meta' };
    const inst = instanceOn(b, { nodeId: '0000000009', label: 'user-label', metadata }, 1, pool);
    expect(inst).toEqual({
      externalId: '0000000009', metadata,
      interfaceIp: '10.0.0.5', publicIpv4: '1.2.3.4', privateIpv4: '10.0.0.5', publicIpv6: '::1', cloud: 'c', region: 'r', az: 'z',
      driverData: { metadata, backing_node: '0000000007', slot: 1, node: '0000000009' },
      attributes: { backattr: 'back', metaattr: 'meta' },
      connection: { username: 'ubuntu', connectionPort: 2222, connectionType: 'ssh', pythonPath: '/usr/bin/python3', shellType: 'sh', hostKeys: ['ssh-ed25519 AAAA'], slot: 1 },
    });
  });

  it('falls back to port 22 when the backing port is not a number', () => {
    const b = new Node('0000000001');
    b.connection_port = 'unknown';
    expect(instanceOn(b, { nodeId: '2', label: 'l', metadata: {} }, 0, pool).connection?.connectionPort).toBe(22);
  });
});
