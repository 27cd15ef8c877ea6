/**
 * An OpenStack API simulator on a real loopback HTTP server: Keystone v3 (password and
 * application-credential auth, expiring tokens, a catalog), Nova, Glance and Neutron under path
 * prefixes of one port. Tests point a clouds.yaml at {@link OpenStackSimulator.authUrl}.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cinderRoutes, glanceRoutes, neutronRoutes } from './network-image-routes';
import { novaRoutes, type NovaTiming } from './nova-routes';
import { dispatch, fail, type Route, type SimRequest, type SimResponse } from './sim-http';
import { SimulatorState } from './simulator-state';

/** Options of the simulator. */
export interface SimulatorOptions extends Partial<NovaTiming> {
  username?: string;
  password?: string;
  project?: string;
  /** Application credential accepted besides the password. */
  appCredential?: { id: string; secret: string };
  region?: string;
  /** Token lifetime, s (default 3600). */
  tokenTtl?: number;
  /** Glance page size (default 2, so the client's pagination is exercised). */
  imagePageSize?: number;
  /** Serve a Cinder v3 (`block-storage`) endpoint (default false: volumes are then ignored). */
  cinder?: boolean;
}

/** One request the simulator saw. */
export interface SeenRequest {
  method: string;
  /** Service prefix: `identity`, `compute`, `image`, `network`. */
  service: string;
  path: string;
  /** performance.now() when it arrived. */
  at: number;
  token: string | null;
  /** Status answered (0 until answered). */
  status: number;
}

const PREFIXES: Record<string, string> = { identity: '/identity/v3', compute: '/compute/v2.1', image: '/image/v2', network: '/network/v2.0', volume: '/volume/v3' };

/** The simulator; see the module comment. */
export class OpenStackSimulator {
  readonly state = new SimulatorState();
  /** Every request, in arrival order. */
  readonly requests: SeenRequest[] = [];
  /** Valid tokens → expiry (ms epoch). */
  readonly tokens = new Map<string, number>();
  readonly username: string;
  readonly password: string;
  readonly project: string;
  readonly projectId = randomUUID().replace(/-/g, '');
  readonly region: string;
  /** Base URL put in the catalog; set to a proxy's URL to route service calls through it. */
  advertisedBase = '';
  private server: http.Server | null = null;
  private readonly routes: Record<string, Route[]>;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: SimulatorOptions = {}) {
    this.username = options.username ?? 'nodepool';
    this.password = options.password ?? 'sim-Secret-Pa55word';
    this.project = options.project ?? 'ci';
    this.region = options.region ?? 'RegionOne';
    this.routes = {
      compute: novaRoutes(this.state, { buildMs: options.buildMs ?? 200, deleteMs: options.deleteMs ?? 100, pageSize: options.pageSize ?? 1000, linkHost: options.linkHost }),
      image: glanceRoutes(this.state, options.imagePageSize ?? 2),
      network: neutronRoutes(this.state),
      volume: cinderRoutes(this.state),
      identity: [['POST', '/auth/tokens', (req) => this.authenticate(req)]],
    };
  }

  /** Starts listening on a free 127.0.0.1 port. */
  async start(): Promise<this> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.advertisedBase = this.url;
    return this;
  }

  /** Stops the server, cutting open connections. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** `http://127.0.0.1:<port>` of the simulator itself. */
  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** Keystone URL for clouds.yaml `auth_url` (through `base`, e.g. a proxy, when given). */
  authUrl(base = this.url): string {
    return `${base}/identity/v3`;
  }

  /** Revokes every token (clients must re-authenticate on the 401). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests to one service. */
  seen(service: string, method?: string): SeenRequest[] {
    return this.requests.filter((r) => r.service === service && (method === undefined || r.method === method));
  }

  private catalog(): unknown[] {
    const ep = (type: string, prefix: string): unknown => ({
      type, name: type,
      endpoints: ['public', 'internal'].map((iface) => ({ interface: iface, region_id: this.region, region: this.region, url: `${this.advertisedBase}${prefix}`, id: randomUUID() })),
    });
    return [
      // A second region's compute entry, listed first: clients must search every entry of a type,
      // and picking it by mistake fails loudly (nothing listens there).
      { type: 'compute', name: 'nova-other', endpoints: [{ interface: 'public', region_id: 'Elsewhere', url: 'http://127.0.0.1:9/compute' }] },
      ep('identity', '/identity'),
      ep('compute', `/compute/v2.1`),
      ep('image', '/image'),
      ep('network', '/network'),
      ...(this.options.cinder ? [ep('block-storage', `/volume/v3/${this.projectId}`)] : []),
    ];
  }

  private authenticate(req: SimRequest): SimResponse {
    const identity = ((req.body.auth ?? {}) as { identity?: Record<string, unknown> }).identity ?? {};
    const methods = (identity.methods ?? []) as string[];
    let ok = false;
    if (methods.includes('password')) {
      const user = ((identity.password ?? {}) as { user?: { name?: string; password?: string } }).user ?? {};
      ok = user.name === this.username && user.password === this.password;
    } else if (methods.includes('application_credential') && this.options.appCredential) {
      const cred = (identity.application_credential ?? {}) as { id?: string; secret?: string };
      ok = cred.id === this.options.appCredential.id && cred.secret === this.options.appCredential.secret;
    }
    if (!ok) return fail(401, 'The request you have made requires authentication.');
    const token = `gAAAA${randomUUID().replace(/-/g, '')}`;
    const expires = Date.now() + (this.options.tokenTtl ?? 3600) * 1000;
    this.tokens.set(token, expires);
    return {
      status: 201,
      headers: { 'X-Subject-Token': token },
      body: { token: { methods, expires_at: new Date(expires).toISOString(), project: { id: this.projectId, name: this.project }, catalog: this.catalog() } },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const service = Object.keys(PREFIXES).find((s) => url.pathname.startsWith(PREFIXES[s]) || url.pathname === PREFIXES[s].replace(/\/v[0-9.]+$/, ''));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const token = (req.headers['x-auth-token'] as string | undefined) ?? null;
    const seen: SeenRequest = { method: req.method ?? 'GET', service: service ?? 'unknown', path: url.pathname + url.search, at: performance.now(), token, status: 0 };
    this.requests.push(seen);
    let answer: SimResponse;
    if (!service) {
      answer = fail(404, `no service at ${url.pathname}`);
    } else if (service !== 'identity' && !this.tokenValid(token)) {
      answer = fail(401, 'The request you have made requires authentication.');
    } else {
      let body: Record<string, unknown> = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        answer = fail(400, 'malformed JSON', 'badRequest');
      }
      let path = url.pathname.slice(PREFIXES[service].length) || '/';
      // Cinder endpoints carry the project id, as real catalogs do.
      if (service === 'volume' && path.startsWith(`/${this.projectId}`)) path = path.slice(this.projectId.length + 1) || '/';
      answer ??= dispatch(this.routes[service], { method: req.method ?? 'GET', path, query: url.searchParams, body, headers: req.headers, base: this.advertisedBase })
        ?? fail(404, `no route ${req.method} ${path}`);
    }
    seen.status = answer.status;
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...answer.headers });
    res.end(text);
  }

  private tokenValid(token: string | null): boolean {
    const expiry = token ? this.tokens.get(token) : undefined;
    return expiry !== undefined && expiry > Date.now();
  }
}
