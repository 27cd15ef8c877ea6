/**
 * The web status API of a launcher (Nodepool's webapp, spec §5.2, drivers-config §7) plus
 * `/metrics`: a plain HTTP server answering from a watch-fed in-memory {@link StatusCache}, so
 * even thousands of nodes answer without touching ZooKeeper. Read-only.
 *
 * A core service of the launcher kernel, built from the kernel container. `/ready` answers 503
 * until the launcher process calls {@link WebApp.setReady} after the whole kernel started.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import type { LifecycleContribution } from '../plugins/lifecycle';
import { LauncherSettings } from '../plugins/launcher-settings';
import { Logger } from '../plugins/logger';
import { Metrics, type Counter } from '../plugins/metrics';
import { NodepoolConfigSource, type ProviderConfig } from '../plugins/nodepool-config';
import { ZooKeeper } from '../plugins/zookeeper';
import { EventStream } from './event-stream';
import { StatusCache } from './status-cache';
import { WebRoutes } from './web-routes';

/** Options of {@link WebApp}. */
export interface WebAppOptions {
  /** Where to listen; default: launcher settings, then nodepool.yaml `webapp:` (read once). */
  listen?: { host: string; port: number };
  /** Reuse of generated bodies, ms (Nodepool: 1000). */
  cacheTtlMs?: number;
  /** Why the launcher serves nothing now (the engine's `notReadyReason`); `/ready` answers 503 with it. */
  readiness?: () => string | undefined;
}

/** See the module comment. */
export class WebApp implements LifecycleContribution {
  readonly name = 'web-app';
  readonly cache: StatusCache;
  private readonly routes: WebRoutes;
  private readonly logger: Logger;
  private readonly requests: Counter;
  private readonly events = new EventStream();
  private unsubscribe: (() => void) | undefined;
  private server: http.Server | undefined;
  private isReady = false;

  constructor(
    private readonly container: Container,
    private readonly options: WebAppOptions = {},
  ) {
    this.logger = container.get<Logger>(Logger).child({ component: 'web-app' });
    const zk = container.get<ZooKeeper>(ZooKeeper);
    const metrics = container.get<Metrics>(Metrics);
    this.cache = new StatusCache(zk.client, this.logger);
    this.requests = metrics.counter('nodepool_web_requests_total', 'Requests answered by the web status API', ['route', 'code']);
    this.routes = new WebRoutes(
      {
        ready: () => this.isReady,
        notReady: () => (zk.client.state !== 'connected' ? `ZooKeeper ${zk.client.state}` : options.readiness?.()),
        nodeList: (json, id, fields) => this.cache.nodeList(json, id, fields),
        requestRows: () => this.cache.requestRows(),
        labelRows: () => this.cache.labelRows(),
        imageRows: () => this.cache.imageRows(),
        dibImageRows: () => this.cache.dibImageRows(),
        imageStatusRows: () => this.cache.imageStatusRows(),
        launcherRows: () => this.cache.launcherRows(),
        providerRows: () => this.cache.providerRows(this.localProviders()),
        metrics: () => metrics.render(),
      },
      options.cacheTtlMs,
    );
  }

  /** Marks the launcher as started (or stopping) for `/ready`. */
  setReady(ready: boolean): void {
    this.isReady = ready;
  }

  /** The bound address once started (tests listen on port 0). */
  address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  /** This launcher's providers (pool caps for `/provider-list`); none before a config is loaded. */
  private localProviders(): ReadonlyMap<string, ProviderConfig> | undefined {
    try {
      return this.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().providers;
    } catch {
      return undefined;
    }
  }

  /** Where to listen: settings first, then nodepool.yaml `webapp:` (default 0.0.0.0:8005). */
  private listenAddress(): { host: string; port: number } {
    if (this.options.listen) return this.options.listen;
    const settings = this.container.get<LauncherSettings>(LauncherSettings);
    const webapp = this.container.get<NodepoolConfigSource>(NodepoolConfigSource).current().webapp;
    return {
      host: settings.web.listenAddress || webapp.listenAddress,
      port: settings.web.port >= 0 ? settings.web.port : webapp.port,
    };
  }

  /** Fills the cache, then listens. */
  async start(): Promise<void> {
    this.unsubscribe = this.cache.onChange((kind) => this.events.notify(kind));
    await this.cache.start();
    const { host, port } = this.listenAddress();
    const server = http.createServer((req, res) => void this.serve(req, res));
    // Keep-alive sockets would hold stop() up until they time out.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`web status API cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error('web server error', { err: err.message }));
    this.server = server;
    this.logger.info('web status API listening', { address: this.address() });
  }

  /** Stops answering and drops the cache. */
  async stop(): Promise<void> {
    this.isReady = false;
    const server = this.server;
    this.server = undefined;
    this.events.close();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    this.cache.stop();
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (req.url === '/events' || req.url?.startsWith('/events?')) {
        if (req.method === 'GET' || req.method === 'HEAD') {
          this.requests.inc({ route: 'events', code: String(this.events.attach(req, res)) });
          return;
        }
      }
      const out = await this.routes.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      const body = Buffer.from(out.body, 'utf8');
      res.writeHead(out.status, { ...out.headers, 'Content-Length': String(out.status === 304 ? 0 : body.length) });
      res.end(out.status === 304 ? undefined : body);
      this.requests.inc({ route: out.route, code: String(out.status) });
    } catch (err) {
      this.logger.error('web request failed', { url: req.url, err: (err as Error).message });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Internal Server Error');
      this.requests.inc({ route: 'error', code: '500' });
    }
  }
}
