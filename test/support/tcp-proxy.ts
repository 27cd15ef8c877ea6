/**
 * A loopback TCP proxy for network-fault tests: forwards to a target, and can silently
 * black-hole all traffic (a cut the endpoints only notice by timeouts) or drop connections.
 */
import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Saw a pause: bytes were dropped, so the stream is corrupt and must not be resumed. */
  poisoned: boolean;
}

/** The proxy; see the module comment. */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private paused = false;

  private constructor(
    private readonly server: net.Server,
    /** The port clients connect to. */
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a proxy on a free 127.0.0.1 port forwarding to `host:port`. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, { host, port });
    return proxy;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Black-holes everything: bytes are dropped, new connections hang, nothing is closed. */
  pause(): void {
    this.paused = true;
    for (const link of this.links) link.poisoned = true;
  }

  /** Ends a pause; connections that lost bytes are reset so the endpoints reconnect cleanly. */
  resume(): void {
    this.paused = false;
    for (const link of [...this.links]) if (link.poisoned) this.destroy(link);
  }

  /** Resets every current connection (an abrupt but visible network blip). */
  dropConnections(): void {
    for (const link of [...this.links]) this.destroy(link);
  }

  /** Stops listening and resets all connections. */
  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const link: Link = { client, upstream: undefined, poisoned: this.paused };
    this.links.add(link);
    client.on('error', () => this.sideClosed(link, client));
    client.on('close', () => this.sideClosed(link, client));
    client.on('data', (d) => {
      if (!this.paused && !link.poisoned) link.upstream?.write(d);
    });
    if (link.poisoned) return; // accepted during a pause: never connected upstream
    const upstream = net.connect(this.target);
    link.upstream = upstream;
    client.pause();
    upstream.on('connect', () => client.resume());
    upstream.on('data', (d) => {
      if (!this.paused && !link.poisoned) client.write(d);
    });
    upstream.on('error', () => this.sideClosed(link, upstream));
    upstream.on('close', () => this.sideClosed(link, upstream));
  }

  /**
   * One end closed. Normally the other end is closed too; during a pause nothing may reach the
   * other end (a real cut hides the FIN), so it is left hanging until `resume()` resets it.
   */
  private sideClosed(link: Link, socket: net.Socket): void {
    if (link.poisoned) socket.destroy();
    else this.destroy(link);
  }

  private destroy(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}
