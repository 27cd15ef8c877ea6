/**
 * A fault-injecting HTTP proxy in front of the simulator (or a real cloud): answers 5xx bursts
 * itself, delays requests, or drops connections (before forwarding, or after the upstream acted on
 * the request).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** One kind of fault, applied to the next `count` matching requests. */
export interface Fault {
  kind: '5xx' | 'slow' | 'drop' | 'drop-after-forward' | 'reply';
  count: number;
  /** Only requests whose `METHOD path` matches (default: all). */
  match?: RegExp;
  /** Status for `5xx` (default 503). */
  status?: number;
  /** Delay for `slow`, ms. */
  delayMs?: number;
  /** `Retry-After` header (seconds) sent with a `5xx` answer. */
  retryAfter?: number;
  /** For `reply`: answer this body (with `status`, default 200) instead of forwarding. */
  body?: string;
  /** For `reply`: the Content-Type sent (default application/json). */
  contentType?: string;
  /** For `reply`: announce the full length but send only this many bytes, then cut the socket. */
  truncateAt?: number;
}

/** The proxy; see the module comment. */
export class FaultProxy {
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly rewrites: [string, string][] = [];
  /** How many faults were applied, by kind. */
  readonly applied: Record<Fault['kind'], number> = { '5xx': 0, slow: 0, drop: 0, 'drop-after-forward': 0, reply: 0 };

  private constructor(
    private readonly server: http.Server,
    private readonly target: URL,
  ) {}

  /**
   * Starts a proxy on a free 127.0.0.1 port forwarding to `targetUrl`. With `tls` it serves HTTPS
   * (a TLS-terminating front for a plain-HTTP cloud); `tls.ca` makes it require a client certificate.
   */
  static async start(targetUrl: string, tls?: { cert: string; key: string; ca?: string }): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void proxy?.handle(req, res);
    const server = tls
      ? https.createServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
      : http.createServer(handler);
    proxy = new FaultProxy(server, new URL(targetUrl));
    const p = proxy;
    server.on('connection', (s) => {
      p.sockets.add(s);
      s.on('close', () => p.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `http://127.0.0.1:<port>` (`https` when serving TLS). */
  get url(): string {
    return `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Replaces `from` with `to` in every answer body from now on: pointed at a real Keystone, it
   * rewrites the catalog's endpoints to other proxies, so a real cloud's services go through them.
   */
  rewrite(from: string, to: string): void {
    this.rewrites.push([from, to]);
  }

  /** Queues a fault. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Removes every queued fault. */
  clear(): void {
    this.faults.length = 0;
  }

  /** Stops the proxy. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take(what: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.count > 0 && (!f.match || f.match.test(what)));
    if (i < 0) return undefined;
    const fault = this.faults[i];
    if (--fault.count === 0) this.faults.splice(i, 1);
    this.applied[fault.kind]++;
    return fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const fault = this.take(`${req.method} ${url.pathname}`);
    if (fault?.kind === '5xx') {
      res.writeHead(fault.status ?? 503, { 'Content-Type': 'text/html', ...(fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}) });
      res.end('<html><body>503 Service Unavailable (injected)</body></html>');
      return;
    }
    if (fault?.kind === 'reply') {
      // A malformed or unexpected answer (non-JSON, wrong shape, truncated, 200 with an error).
      const body = Buffer.from(fault.body ?? '', 'utf8');
      res.writeHead(fault.status ?? 200, { 'Content-Type': fault.contentType ?? 'application/json', 'Content-Length': String(body.length) });
      if (fault.truncateAt === undefined) res.end(body);
      else res.write(body.subarray(0, fault.truncateAt), () => req.socket.destroy());
      return;
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    // Unref'd: a delayed request must not keep the test process alive after the proxy stops.
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000).unref());
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } },
      (up) => {
        if (fault?.kind === 'drop-after-forward') {
          up.resume();
          req.socket.destroy();
          return;
        }
        if (this.rewrites.length === 0) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          let text = Buffer.concat(body).toString('utf8');
          for (const [from, to] of this.rewrites) text = text.split(from).join(to);
          const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(text)) };
          delete headers['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(text);
        });
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(Buffer.concat(chunks));
  }
}
