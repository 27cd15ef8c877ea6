/**
 * SSH host-key gathering: one SSH handshake per host
 * key algorithm, each offering only that algorithm, so the server shows every kind of key it has.
 * The handshake is abandoned as soon as the key is seen; nothing is authenticated.
 */
import type { Client } from 'ssh2';

// ssh2 is loaded by the first scan, not with this module: its WebAssembly crypto reserves a
// 16 MB heap at load time, which a launcher whose hosts need no key scan never uses.
let ssh2: typeof import('ssh2') | undefined;
function newClient(): Client {
  ssh2 ??= require('ssh2') as typeof import('ssh2');
  return new ssh2.Client();
}

/**
 * Algorithms asked for, strongest first. RSA is asked for once under each signature name because
 * servers that refuse `ssh-rsa` (SHA-1) signatures still present the same RSA key.
 */
export const SCAN_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

/** The SSH handshake could not be made at all (not an SSH server yet, or it closed on us). */
export class SshHandshakeError extends Error {
  override readonly name = 'SshHandshakeError';
}

/** `"<type> <base64>"` of a public key blob in SSH wire format (type string first). */
export function formatHostKey(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + len).toString('ascii');
  return `${type} ${blob.toString('base64')}`;
}

/**
 * One handshake offering only `algorithm`. Resolves to the key, or undefined when the server has
 * no key of that kind; rejects with {@link SshHandshakeError} when no SSH handshake happened.
 */
export function scanHostKey(host: string, port: number, algorithm: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const client = newClient();
    let key: string | undefined;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      // destroy, not end: a half-open socket would keep the peer (and our event loop) waiting.
      client.destroy();
      if (key !== undefined) resolve(key);
      else if (!err) resolve(undefined);
      else if (/no matching|host key (format|algorithm)/i.test(err.message)) resolve(undefined);
      else reject(new SshHandshakeError(err.message));
    };
    client.on('error', (err) => finish(err));
    client.on('close', () => finish(new Error('connection closed before a host key was seen')));
    client.on('ready', () => finish());
    client.connect({
      host,
      port,
      username: 'nodepool-keyscan',
      readyTimeout: Math.max(1, timeoutMs),
      algorithms: { serverHostKey: [algorithm as never] },
      hostVerifier: (blob: Buffer): boolean => {
        key = formatHostKey(blob);
        // Refusing the key ends the handshake here: we only wanted to see it.
        setImmediate(() => finish());
        return false;
      },
    });
  });
}

/**
 * Every host key the server presents, one handshake per algorithm, de-duplicated by key (the
 * RSA key appears under three algorithm names). Rejects with {@link SshHandshakeError} when the
 * first handshake fails, or when the server presented no key at all.
 */
export async function scanHostKeys(host: string, port: number, timeoutMs: number): Promise<string[]> {
  const keys: string[] = [];
  for (const algorithm of SCAN_HOST_KEY_ALGORITHMS) {
    const key = await scanHostKey(host, port, algorithm, timeoutMs);
    if (key !== undefined && !keys.includes(key)) keys.push(key);
  }
  if (keys.length === 0) throw new SshHandshakeError(`${host}:${port} presented no host key`);
  return keys;
}
