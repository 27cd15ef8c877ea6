/**
 * State of the OpenStack API simulator: what a small project in one region holds. Kept apart from
 * the HTTP layer so tests can look at (and tamper with) the cloud directly.
 */
import { randomUUID } from 'node:crypto';

/** A simulated Nova server. */
export interface SimServer {
  id: string;
  name: string;
  status: 'BUILD' | 'ACTIVE' | 'ERROR' | 'DELETED';
  flavorId: string;
  imageId: string;
  metadata: Record<string, string>;
  az: string;
  hostId: string;
  keyName: string | null;
  userData: string | null;
  securityGroups: string[];
  networkIds: string[];
  fault: string | null;
  created: number;
  /** The raw `server` body of the create call, for assertions. */
  request: Record<string, unknown>;
}

/** A simulated Neutron port. */
export interface SimPort {
  id: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  status: 'ACTIVE' | 'DOWN';
  mac_address: string;
  fixed_ips: { ip_address: string; subnet_id: string }[];
  created_at: string;
}

/** A simulated floating IP. */
export interface SimFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: 'ACTIVE' | 'DOWN';
}

/** A simulated network; `cidr` is where its fixed IPs come from (first three octets). */
export interface SimNetwork {
  id: string;
  name: string;
  'router:external': boolean;
  prefix: string;
  next: number;
}

/** Flavor as Nova lists it. */
export interface SimFlavor {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
}

/** Quota of the simulated project (−1 = unlimited). */
export interface SimQuota {
  instances: number;
  cores: number;
  ram: number;
}

/** Everything the simulator holds. */
export class SimulatorState {
  readonly servers = new Map<string, SimServer>();
  readonly ports = new Map<string, SimPort>();
  readonly floatingIps = new Map<string, SimFloatingIp>();
  readonly networks = new Map<string, SimNetwork>();
  readonly flavors: SimFlavor[] = [
    { id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 },
    { id: '2', name: 'm1.small', ram: 2048, vcpus: 1, disk: 20 },
    { id: '3', name: 'm1.medium', ram: 4096, vcpus: 2, disk: 40 },
    { id: '4', name: 'm1.large', ram: 8192, vcpus: 4, disk: 80 },
  ];
  readonly images = [
    { id: randomUUID(), name: 'ubuntu-noble', status: 'active' },
    { id: randomUUID(), name: 'debian-bookworm', status: 'active' },
    { id: randomUUID(), name: 'queued-image', status: 'queued' },
  ];
  quota: SimQuota = { instances: 10, cores: 20, ram: 51200 };
  /** Cinder limits (only served when the simulator has a volume service). */
  volumeQuota = { volumes: 10, gigabytes: 1000 };
  /** Cinder volumes: id → size (GB) and the server it is attached to. */
  readonly volumes = new Map<string, { id: string; size: number; serverId: string | null; deleteOnTermination: boolean }>();
  readonly availabilityZones = ['nova'];
  /** Faults for the next creates: each create takes one; the server goes ERROR with it. */
  readonly errorQueue: string[] = [];
  /** Status of a bound floating IP: DOWN models a Neutron without L3 agent (as the real testbed). */
  boundFloatingIpStatus: 'ACTIVE' | 'DOWN' = 'ACTIVE';
  /** This many next servers stay in BUILD forever (launch-timeout tests). */
  hangNext = 0;
  private fipNext = 10;

  constructor() {
    this.addNetwork('private', false, '10.0.0');
    this.addNetwork('public', true, '203.0.113');
  }

  /** Adds a network whose fixed IPs are `<prefix>.N`. */
  addNetwork(name: string, external: boolean, prefix: string): SimNetwork {
    const net: SimNetwork = { id: randomUUID(), name, 'router:external': external, prefix, next: 10 };
    this.networks.set(net.id, net);
    return net;
  }

  /** A network by name. */
  network(name: string): SimNetwork {
    const net = [...this.networks.values()].find((n) => n.name === name);
    if (!net) throw new Error(`no network ${name}`);
    return net;
  }

  /** A port on `networkId` for `deviceId`. */
  addPort(networkId: string, deviceId: string, owner: string, status: SimPort['status'] = 'ACTIVE'): SimPort {
    const net = this.networks.get(networkId);
    if (!net) throw new Error(`no network ${networkId}`);
    const n = net.next++;
    const port: SimPort = {
      id: randomUUID(), network_id: networkId, device_id: deviceId, device_owner: owner, status,
      mac_address: `fa:16:3e:00:00:${(n % 256).toString(16).padStart(2, '0')}`,
      fixed_ips: [{ ip_address: `${net.prefix}.${n}`, subnet_id: `${net.id}-subnet` }], created_at: new Date().toISOString(),
    };
    this.ports.set(port.id, port);
    return port;
  }

  /** A floating IP on an external network. */
  /**
   * Called when a floating IP create for `portId` arrives, before it is checked and applied:
   * a test makes another create land first (a dead launcher's request still in flight).
   */
  beforeFloatingIpCreate?: (portId: string) => void;

  addFloatingIp(networkId: string, portId: string | null): SimFloatingIp {
    const port = portId ? this.ports.get(portId) : undefined;
    const fip: SimFloatingIp = {
      id: randomUUID(), floating_ip_address: `198.51.100.${this.fipNext++}`, floating_network_id: networkId,
      port_id: port ? port.id : null, fixed_ip_address: port ? port.fixed_ips[0].ip_address : null, status: port ? this.boundFloatingIpStatus : 'DOWN',
    };
    this.floatingIps.set(fip.id, fip);
    return fip;
  }

  /** Servers that count against quota (not deleted). */
  liveServers(): SimServer[] {
    return [...this.servers.values()].filter((s) => s.status !== 'DELETED');
  }

  /** Usage of the live servers. */
  usage(): SimQuota {
    const u = { instances: 0, cores: 0, ram: 0 };
    for (const s of this.liveServers()) {
      const f = this.flavors.find((fl) => fl.id === s.flavorId);
      u.instances++;
      u.cores += f?.vcpus ?? 0;
      u.ram += f?.ram ?? 0;
    }
    return u;
  }

  /** Nova's `addresses` for a server: fixed IPs by network name, plus attached floating IPs. */
  addresses(server: SimServer): Record<string, Record<string, unknown>[]> {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const port of this.ports.values()) {
      if (port.device_id !== server.id) continue;
      const net = this.networks.get(port.network_id);
      const list = (out[net?.name ?? port.network_id] ??= []);
      for (const ip of port.fixed_ips) {
        list.push({ addr: ip.ip_address, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port.mac_address });
      }
      for (const fip of this.floatingIps.values()) {
        if (fip.port_id === port.id) {
          list.push({ addr: fip.floating_ip_address, version: 4, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': port.mac_address });
        }
      }
    }
    return out;
  }

  /** Removes a server and its ports; floating IPs on those ports are disassociated (Neutron). */
  purgeServer(id: string): void {
    this.servers.delete(id);
    for (const v of [...this.volumes.values()]) {
      if (v.serverId !== id) continue;
      if (v.deleteOnTermination) this.volumes.delete(v.id);
      else v.serverId = null;
    }
    for (const port of [...this.ports.values()]) {
      if (port.device_id !== id) continue;
      this.ports.delete(port.id);
      for (const fip of this.floatingIps.values()) {
        if (fip.port_id === port.id) Object.assign(fip, { port_id: null, fixed_ip_address: null, status: 'DOWN' });
      }
    }
  }
}
