/**
 * The nodescan run after an instance is created: wait until the
 * node accepts TCP connections on its connection port, within `boot-timeout`.
 */
import net from 'node:net';
import { cancellableSleep, throwIfCancelled } from './run-state-machine';
import { scanHostKeys } from './ssh-keyscan';

/** Connection types whose host keys are gathered (the others only need the TCP connect). */
export function gathersHostKeys(connectionType: string | null): boolean {
  return connectionType === null || connectionType === 'ssh' || connectionType === 'network_cli';
}

/** The node did not become reachable within the boot timeout (Nodepool's keyscan failure). */
export class NodescanError extends Error {
  override readonly name = 'NodescanError';
}

/** Options of {@link nodescan}. */
export interface NodescanOptions {
  /** The node's `interface_ip`. */
  host: string;
  /** The node's `connection_port`. */
  port: number;
  /** `ssh`, `network_cli`, `winrm`, ...; only ssh-like types have host keys. */
  connectionType: string | null;
  /** Total time allowed (the boot timeout), ms. */
  timeoutMs: number;
  /** Cap of one connect attempt (Nodepool: 10 s). */
  attemptTimeoutMs?: number;
  /** Pause between refused connects (default 1000 ms, never past the deadline). */
  retryDelayMs?: number;
  /** Cancels the scan (rejects with the cancellation error). */
  signal?: AbortSignal;
}

/** Host key Nodepool's fake driver reports for any IP containing `fake`. */
export const FAKE_HOST_KEYS: readonly string[] = ['ssh-rsa FAKEKEY'];

function connectOnce(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`connect to ${host}:${port} timed out`)), Math.max(1, timeoutMs));
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err));
  });
}

/**
 * Scans a node and returns its host keys (`"<type> <base64>"`). IPs containing `fake` give
 * {@link FAKE_HOST_KEYS} without any network access, as in Nodepool's tests.
 *
 * Otherwise the scan retries until `timeoutMs` passes ({@link NodescanError}): a TCP connect,
 * then for ssh/network_cli nodes one SSH handshake per host-key algorithm (a booting node's port
 * may accept before sshd answers, so a failed handshake is retried too). Other connection types
 * have no keys: the connect is enough.
 */
export async function nodescan(options: NodescanOptions): Promise<string[]> {
  if (options.host.includes('fake')) return [...FAKE_HOST_KEYS];
  const deadline = performance.now() + options.timeoutMs;
  const attemptCap = options.attemptTimeoutMs ?? 10_000;
  const retryDelay = options.retryDelayMs ?? 1000;
  let lastError: unknown;
  for (;;) {
    throwIfCancelled(options.signal);
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    try {
      await connectOnce(options.host, options.port, Math.min(attemptCap, remaining));
      if (!gathersHostKeys(options.connectionType)) return [];
      return await scanHostKeys(options.host, options.port, Math.min(attemptCap, Math.max(1, deadline - performance.now())));
    } catch (err) {
      // Refused / unreachable is the normal state of a booting node: retry quietly.
      lastError = err;
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    await cancellableSleep(Math.min(retryDelay, left), options.signal);
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new NodescanError(`timeout connecting to ${options.host} on port ${options.port} after ${options.timeoutMs / 1000} s${reason}`);
}
