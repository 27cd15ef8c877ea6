/**
 * Reachability and host-key check of a static host (spec drivers-config §2.3), plus the name
 * resolution of a registration record (§2.2).
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { scanHostKeys } from '@nodepool-ts/sdk';
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
 * keys. Otherwise the host must accept a TCP connection within its `timeout` (for non-ssh types
 * even with checking off, as in Nodepool; they get no keys); ssh types then have their keys
 * scanned, and every configured `host-key` must be among them.
 *
 * @throws StaticHostError `"<tuple>: ConnectionTimeoutException"` when the host cannot be
 *   reached or does not complete an SSH handshake, `"<tuple>: host key mismatches (...)"` when a
 *   configured key is not presented
 */
export async function checkHost(n: StaticNodeConfig, tuple: string): Promise<string[]> {
  const gather = gathersHostKeys(n);
  if (gather && !n['host-key-checking']) return [...n['host-key']];
  const started = Date.now();
  if (!(await tcpReachable(n.name, n['connection-port'], n.timeout))) {
    throw new StaticHostError(`${tuple}: ConnectionTimeoutException`);
  }
  if (!gather) return [];
  const left = Math.max(1000, n.timeout * 1000 - (Date.now() - started));
  let scanned: string[];
  try {
    scanned = await scanHostKeys(n.name, n['connection-port'], left);
  } catch {
    throw new StaticHostError(`${tuple}: ConnectionTimeoutException`);
  }
  // Compare type and key only: a configured entry may carry a trailing comment.
  const bare = (k: string): string => k.trim().split(/\s+/).slice(0, 2).join(' ');
  const seen = new Set(scanned.map(bare));
  const missing = n['host-key'].filter((k) => !seen.has(bare(k)));
  if (missing.length > 0) throw new StaticHostError(`${tuple}: host key mismatches (${scanned.join(', ')})`);
  return scanned;
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
