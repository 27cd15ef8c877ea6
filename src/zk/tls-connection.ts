/**
 * Socket creation for one node-zookeeper-client instance, with optional mutual TLS.
 *
 * Written against node-zookeeper-client **1.1.3**: `ConnectionManager.prototype.connect` is the
 * only place a socket is made (`net.connect(server)`, then `'connect'` → `onSocketConnected`).
 * We replace `connect` on the per-client connectionManager INSTANCE (never the prototype, so two
 * clients in one process stay independent) with a copy of that method that
 *   - uses `tls.connect` with our CA / client cert / key and waits for `'secureConnect'`, and
 *   - does nothing once the owning ZkClient session is disposed (the library would otherwise
 *     reconnect forever from a pending `findNextServer` timer after we dropped the client),
 *   - remembers the last socket error, so a refused TLS handshake can be reported.
 * Keep the body in step with the library's `connect` when upgrading it.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { coalesceWrites } from './coalesced-writes';
import { CM_STATES, type ConnectionManagerInternals } from './library-internals';

/** Mutual-TLS material: each value is a PEM file path or the PEM text itself. */
export interface ZkTlsOptions {
  /** Client certificate (PEM path or content); Nodepool's servers require one (clientAuth=need). */
  cert?: string | Buffer;
  /** Client private key (PEM path or content), with `cert`. */
  key?: string | Buffer;
  /** CA bundle that signed the server certificate (PEM path or content). */
  ca: string | Buffer;
}

/** PEM material loaded into memory. */
export interface LoadedTls {
  cert: Buffer | undefined;
  key: Buffer | undefined;
  ca: Buffer;
}

/** Reads PEM files (or keeps inline PEM text) once, so reconnects never touch the disk. */
export function loadTls(options: ZkTlsOptions): LoadedTls {
  const load = (value: string | Buffer, what: string): Buffer => {
    if (Buffer.isBuffer(value)) return value;
    if (value.includes('-----BEGIN')) return Buffer.from(value, 'utf8');
    try {
      return fs.readFileSync(value);
    } catch (err) {
      throw new Error(`cannot read ZooKeeper TLS ${what} file ${value}: ${(err as Error).message}`);
    }
  };
  if (!options.cert !== !options.key) throw new Error('ZooKeeper TLS needs both a client cert and its key, or neither');
  const loaded = {
    cert: options.cert ? load(options.cert, 'cert') : undefined,
    key: options.key ? load(options.key, 'key') : undefined,
    ca: load(options.ca, 'ca'),
  };
  checkTlsMaterial(loaded, options);
  return loaded;
}

/** How a PEM option is named in messages: its path, never its content. */
function describe(value: string | Buffer | undefined, what: string): string {
  return typeof value === 'string' && !value.includes('-----BEGIN') ? `${what} ${value}` : `${what} (inline PEM)`;
}

/**
 * Refuses unusable material at start-up instead of at the first handshake (where it would show
 * as a connect timeout): the CA must parse as a certificate (Node ignores a garbage CA silently),
 * and cert and key must parse and belong together.
 */
function checkTlsMaterial(loaded: LoadedTls, options: ZkTlsOptions): void {
  try {
    new X509Certificate(loaded.ca);
  } catch (err) {
    throw new Error(`invalid ZooKeeper TLS ${describe(options.ca, 'ca')}: ${(err as Error).message}`);
  }
  if (!loaded.cert || !loaded.key) return;
  try {
    new X509Certificate(loaded.cert);
  } catch (err) {
    throw new Error(`invalid ZooKeeper TLS ${describe(options.cert, 'cert')}: ${(err as Error).message}`);
  }
  try {
    tls.createSecureContext({ cert: loaded.cert, key: loaded.key });
  } catch (err) {
    throw new Error(`invalid ZooKeeper TLS ${describe(options.key, 'key')} for ${describe(options.cert, 'cert')}: ${(err as Error).message}`);
  }
}

/**
 * Warnings about the material that do not stop us: a private key file readable by group or
 * others (ssh refuses such keys; we only warn, as Nodepool does not check at all).
 */
export function tlsKeyWarnings(options: ZkTlsOptions): string[] {
  const key = options.key;
  if (typeof key !== 'string' || key.includes('-----BEGIN')) return [];
  try {
    const mode = fs.statSync(key).mode & 0o777;
    if (mode & 0o077) {
      return [`ZooKeeper TLS key file ${key} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`];
    }
  } catch {
    // Unreadable files are reported by loadTls.
  }
  return [];
}

/** Hooks the connector calls back into. */
export interface ConnectorHooks {
  /** True once the owning session was dropped: no new sockets from then on. */
  isDisposed(): boolean;
  /** A socket attempt starts (used to reset the read watchdog). */
  onAttempt(): void;
  /** A socket reported an error (kept for the connect-failure message). */
  onError(err: Error): void;
}

/**
 * Replaces `connect` on this connection manager instance; see the module comment.
 * With `tls` undefined the socket is plain TCP, exactly as the library makes it.
 */
export function installConnector(cm: ConnectionManagerInternals, tlsMaterial: LoadedTls | undefined, hooks: ConnectorHooks): void {
  cm.connect = function connect(this: ConnectionManagerInternals): void {
    if (hooks.isDisposed()) return;
    this.setState(CM_STATES.CONNECTING);
    this.findNextServer((server) => {
      if (hooks.isDisposed()) return;
      hooks.onAttempt();
      const host = server.host;
      const port = Number(server.port);
      let socket: net.Socket;
      if (tlsMaterial) {
        socket = tls.connect({
          host,
          port,
          ca: tlsMaterial.ca,
          cert: tlsMaterial.cert,
          key: tlsMaterial.key,
          // SNI must not carry an IP (RFC 6066); without servername Node verifies the
          // certificate against `host`, which checks the IP SAN for 127.0.0.1-style hosts and
          // the DNS SAN otherwise (tls.checkServerIdentity, the default).
          servername: net.isIP(host) ? undefined : host,
          rejectUnauthorized: true,
        });
      } else {
        socket = net.connect({ host, port });
      }
      this.socket = socket;
      this.connectTimeoutHandler = setTimeout(this.onSocketConnectTimeout.bind(this), this.connectTimeout);
      socket.setNoDelay();
      coalesceWrites(socket);
      // For TLS the ZooKeeper handshake may only start once the TLS handshake is done.
      socket.on(tlsMaterial ? 'secureConnect' : 'connect', this.onSocketConnected.bind(this));
      socket.on('data', this.onSocketData.bind(this));
      socket.on('drain', this.onSocketDrain.bind(this));
      socket.on('close', this.onSocketClosed.bind(this));
      socket.on('error', (err: Error) => {
        hooks.onError(err);
        this.onSocketError(err);
      });
    });
  };
}
