/**
 * A small statsd client over UDP (the plain text protocol Nodepool's Python `statsd` package
 * speaks): `name:value|c`, `|ms`, `|g`. Sends are fire-and-forget like Python's; a lost datagram
 * or an unreachable daemon never reaches the caller. No dependency: the protocol is one line.
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** Where to send and what to put in front of every name. */
export interface StatsdOptions {
  host: string;
  port: number;
  /** Prepended with a dot (Python statsd's `STATSD_PREFIX`), '' for none. */
  prefix?: string;
}

/** See the module comment. */
export class StatsdClient {
  private readonly socket: dgram.Socket;
  private readonly prefix: string;
  private closed = false;

  constructor(private readonly options: StatsdOptions) {
    this.socket = dgram.createSocket(net.isIPv6(options.host) ? 'udp6' : 'udp4');
    // Never keep the process alive, never crash it on a send error (e.g. ICMP unreachable).
    this.socket.unref();
    this.socket.on('error', () => undefined);
    this.prefix = options.prefix ? `${options.prefix}.` : '';
  }

  /** Adds `value` (default 1) to a counter. */
  incr(name: string, value = 1): void {
    this.send(`${name}:${value}|c`);
  }

  /** Records a duration in milliseconds (integer, as Nodepool sends). */
  timing(name: string, ms: number): void {
    this.send(`${name}:${Math.round(ms)}|ms`);
  }

  /** Sets a gauge. */
  gauge(name: string, value: number): void {
    this.send(`${name}:${value}|g`);
  }

  /** Stops sending. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private send(line: string): void {
    if (this.closed) return;
    this.socket.send(`${this.prefix}${line}`, this.options.port, this.options.host, () => undefined);
  }
}

/** Python statsd's key normalisation of user-supplied parts (requestor, tenant): `.`/`:` → `_`. */
export function statsdKeyPart(value: string): string {
  return value.replace(/[.:]/g, '_');
}
