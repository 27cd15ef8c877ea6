/**
 * Reachability and host-key check of a static host (spec drivers-config §2.3), plus the name
 * resolution of a registration record (§2.2).
 *
 * There is no SSH library among our dependencies, so where Nodepool completes an SSH handshake
 * and scans host keys we only open a TCP connection, and record the configured `host-key` list.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type { StaticNodeConfig } from './static-provider-schema';

/** A host failed its check; the message names the host tuple, like Nodepool's StaticNodeError. */
export class StaticHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaticHostError';
  }
}

/** Connection types for which Nodepool gathers host keys. */
function gathersHostKeys(n: StaticNodeConfig): boolean {
  return n['connection-type'] === 'ssh' || n['connection-type'] === 'network_cli';
}

/** Time between connection attempts while the host refuses (Nodepool's nodescan waits too). */
const RETRY_MS = 250;

function connectOnce(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Opens a TCP connection to `host:port`, retrying until `timeoutSeconds` have passed. Each
 * attempt has its own deadline, so a silent host costs at most the timeout.
 *
 * @returns true when a connection was made in time
 */
export async function tcpReachable(host: string, port: number, timeoutSeconds: number): Promise<boolean> {
  const deadline = Date.now() + Math.max(0, timeoutSeconds) * 1000;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    try {
      await connectOnce(host, port, left);
      return true;
    } catch {
      const wait = Math.min(RETRY_MS, deadline - Date.now());
      if (wait <= 0) return false;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Checks a host before its records are registered or updated and gives the host keys to record.
 * ssh/network_cli with `host-key-checking: false` touches no network and returns the configured
 * keys; every other case needs a TCP connection (for non-ssh types even with checking off, as in
 * Nodepool) and non-ssh types get no keys.
 *
 * @throws StaticHostError `"<tuple>: ConnectionTimeoutException"` when the host cannot be reached
 */
export async function checkHost(n: StaticNodeConfig, tuple: string): Promise<string[]> {
  const gather = gathersHostKeys(n);
  if (gather && !n['host-key-checking']) return [...n['host-key']];
  if (!(await tcpReachable(n.name, n['connection-port'], n.timeout))) {
    throw new StaticHostError(`${tuple}: ConnectionTimeoutException`);
  }
  return gather ? [...n['host-key']] : [];
}

/** Addresses of a registration record: the first result of resolving the host name. */
export interface ResolvedAddress {
  public_ipv4: string | null;
  public_ipv6: string | null;
}

/**
 * Resolves the host name like Nodepool's getaddrinfo call: names containing `fake` are not
 * resolved (Nodepool's test hosts), otherwise the first address is stored by its family.
 *
 * @throws StaticHostError naming the tuple when the name does not resolve
 */
export async function resolveHost(name: string, tuple: string): Promise<ResolvedAddress> {
  if (name.includes('fake')) return { public_ipv4: null, public_ipv6: null };
  let address: { address: string; family: number };
  try {
    address = await dns.lookup(name);
  } catch (err) {
    throw new StaticHostError(`${tuple}: cannot resolve ${name}: ${(err as Error).message}`);
  }
  return address.family === 6
    ? { public_ipv4: null, public_ipv6: address.address }
    : { public_ipv4: address.address, public_ipv6: null };
}
