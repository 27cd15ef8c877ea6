/**
 * Addresses of a Nova server the way openstacksdk derives them for Nodepool (spec drivers-config
 * §5.4 step 5): public/private IPv4, public IPv6, the interface IP, and whether the server still
 * needs a floating IP.
 */
import type { CloudNetworks } from './clouds-yaml';
import type { Server, ServerAddress } from './openstack-client';

/** Addresses derived from a server. */
export interface ServerIps {
  publicIpv4: string | null;
  privateIpv4: string | null;
  publicIpv6: string | null;
  interfaceIp: string | null;
  /** The first fixed IPv4 and its MAC (to find the port a floating IP goes on). */
  fixedIpv4: { addr: string; mac: string | null } | null;
  /** Floating addresses the server carries (deleted with it). */
  floating: string[];
}

/** RFC 1918, CGNAT and link-local IPv4: not reachable from outside. */
function isPrivateIpv4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || a === 127;
}

/** Link-local and unique-local IPv6 are not public. */
function isPublicIpv6(ip: string): boolean {
  const l = ip.toLowerCase();
  return !(l.startsWith('fe80') || l.startsWith('fc') || l.startsWith('fd') || l === '::1');
}

/**
 * IPs of `server`. `defaultNetwork`, when given, is the network whose fixed IP is the interface
 * IP (clouds.yaml `default_interface` network); on a `private` cloud the private IPv4; otherwise
 * public IPv4, then public IPv6, then private IPv4. `nets` (clouds.yaml `networks`) come first as
 * in openstacksdk: a fixed address on a `routes_externally` network is public, one on another
 * listed network private, and the `nat_destination` network's address is the one a floating IP
 * is put on.
 */
export function serverIps(server: Server, defaultNetwork?: string | null, privateCloud = false, nets?: CloudNetworks): ServerIps {
  const all: (ServerAddress & { net: string })[] = [];
  for (const [net, list] of Object.entries(server.addresses ?? {})) for (const a of list) all.push({ ...a, net });
  const floating = all.filter((a) => a['OS-EXT-IPS:type'] === 'floating').map((a) => a.addr);
  const fixed = all.filter((a) => a['OS-EXT-IPS:type'] !== 'floating');
  const fixed4 = fixed.filter((a) => a.version === 4);
  const on = (names: readonly string[] | undefined, version: 4 | 6): string | null =>
    fixed.find((a) => a.version === version && (names ?? []).includes(a.net))?.addr ?? null;
  const external4 = nets?.external4 ?? [];
  // An address on a network the cloud says is internal is never taken for public by its value.
  const unlisted4 = fixed4.filter((a) => !(nets?.internal4 ?? []).includes(a.net) && !external4.includes(a.net));
  const floating4 = all.find((a) => a.version === 4 && a['OS-EXT-IPS:type'] === 'floating');
  const publicFixed4 = unlisted4.find((a) => !isPrivateIpv4(a.addr));
  const privateFixed4 = fixed4.find((a) => isPrivateIpv4(a.addr) && !external4.includes(a.net));
  const publicIpv4 = on(external4, 4) ?? floating4?.addr ?? (server.accessIPv4 || null) ?? publicFixed4?.addr ?? null;
  const publicIpv6 = on(nets?.external6, 6) ?? (server.accessIPv6 || null) ?? all.find((a) => a.version === 6 && isPublicIpv6(a.addr))?.addr ?? null;
  const natDestination = nets?.natDestination ? fixed4.find((a) => a.net === nets.natDestination) : undefined;
  // Nodepool falls back to the public IPv4 when there is no private one.
  const privateIpv4 = on(nets?.internal4, 4) ?? natDestination?.addr ?? privateFixed4?.addr ?? publicIpv4;
  const onDefault = defaultNetwork ? all.find((a) => a.net === defaultNetwork && a['OS-EXT-IPS:type'] !== 'floating') : undefined;
  const interfaceIp = onDefault?.addr ?? (privateCloud ? privateIpv4 : null) ?? publicIpv4 ?? publicIpv6 ?? privateIpv4;
  const first = natDestination ?? privateFixed4 ?? fixed4[0];
  return {
    publicIpv4,
    privateIpv4,
    publicIpv6,
    interfaceIp,
    fixedIpv4: first ? { addr: first.addr, mac: first['OS-EXT-IPS-MAC:mac_addr'] ?? null } : null,
    floating,
  };
}

/**
 * Whether a floating IP should be added (§5.4 step 3): no public IPv4 yet and a private fixed
 * IPv4 to NAT. (The external-network check is the caller's.)
 */
export function needsFloatingIp(ips: ServerIps): boolean {
  return ips.publicIpv4 === null && ips.fixedIpv4 !== null;
}
