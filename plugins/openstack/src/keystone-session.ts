/**
 * Keystone v3 session (spec drivers-config §5.3 "Auth"): gets a token with password,
 * application-credential or token auth, reuses it until shortly before it expires, re-authenticates
 * on 401, and picks service endpoints from the token's catalog by type, interface and region.
 * Tokens and secrets never leave this module except in the `X-Auth-Token` header.
 */
import type { CloudCredentials } from './clouds-yaml';
import { HttpTransport, OpenStackApiError, Throttle, type TransportOptions, type TransportResponse } from './http-transport';

/** Services the driver talks to (`volume` = Cinder v3, optional). */
export type ServiceType = 'compute' | 'network' | 'image' | 'volume';

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region_id?: string; region?: string; url: string }[];
}

interface Token {
  value: string;
  expiresAt: number;
  issuedAt: number;
  projectId: string | null;
  catalog: CatalogEntry[];
}

/** Options of a {@link KeystoneSession}. */
export interface KeystoneSessionOptions extends TransportOptions {
  /** Minimum seconds between calls to one service (provider `rate`; 0 = no throttle). */
  rate?: number;
}

/** What {@link KeystoneSession.request} sends. */
export interface ServiceRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the service endpoint (`/servers/detail`), or an absolute URL (pagination links). */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  idempotent?: boolean;
}

/** Versioned suffix the driver's paths are written against, per service. */
const VERSION_SUFFIX: Record<ServiceType, string> = { compute: '', network: '/v2.0', image: '/v2', volume: '' };

/** Catalog types of each service, preferred first. */
const CATALOG_TYPES: Record<ServiceType, string[]> = {
  compute: ['compute'], network: ['network'], image: ['image'], volume: ['block-storage', 'volumev3'],
};

/** An authenticated connection to one cloud; see the module comment. */
export class KeystoneSession {
  private readonly transport: HttpTransport;
  private readonly throttles = new Map<string, Throttle>();
  private readonly rateMs: number;
  private token: Token | null = null;
  private authenticating: Promise<Token> | null = null;
  /** How many times a token was obtained (for tests and metrics). */
  authCount = 0;

  constructor(
    private readonly cloud: CloudCredentials,
    options: KeystoneSessionOptions = {},
  ) {
    this.transport = new HttpTransport({ ...options, tls: options.tls ?? cloud.tls });
    this.rateMs = Math.max(0, (options.rate ?? 0) * 1000);
  }

  /** The Keystone v3 base URL (`auth_url` with `/v3` added when missing). */
  get identityUrl(): string {
    const base = this.cloud.auth.auth_url.replace(/\/+$/, '');
    return /\/v3$/.test(base) ? base : `${base}/v3`;
  }

  /** Project id of the current token (after the first call). */
  get projectId(): string | null {
    return this.token?.projectId ?? null;
  }

  /** Drops the token so the next call authenticates again. */
  invalidate(): void {
    this.token = null;
  }

  /** Sends a request to a service, authenticating as needed; one re-auth on 401. */
  async request(service: ServiceType, req: ServiceRequest): Promise<TransportResponse> {
    for (let reauth = 0; ; reauth++) {
      const token = await this.validToken();
      const url = /^https?:\/\//.test(req.path) ? req.path : `${this.endpointOf(token, service)}${req.path}`;
      try {
        return await this.transport.send(
          { method: req.method, url, body: req.body, idempotent: req.idempotent, headers: { ...req.headers, 'X-Auth-Token': token.value } },
          this.throttle(service),
        );
      } catch (err) {
        if (err instanceof OpenStackApiError && err.status === 401 && reauth === 0) {
          // Revoked or expired early: one fresh token, then give up.
          if (this.token === token) this.token = null;
          continue;
        }
        throw err;
      }
    }
  }

  /** Whether the catalog has the service (authenticates if needed). */
  async hasService(service: ServiceType): Promise<boolean> {
    const token = await this.validToken();
    return CATALOG_TYPES[service].some((type) => token.catalog.some((c) => c.type === type));
  }

  /** Endpoint URL of a service (authenticates if needed). */
  async endpoint(service: ServiceType): Promise<string> {
    return this.endpointOf(await this.validToken(), service);
  }

  private throttle(service: string): Throttle {
    let t = this.throttles.get(service);
    if (!t) this.throttles.set(service, (t = new Throttle(this.rateMs)));
    return t;
  }

  private endpointOf(token: Token, service: ServiceType): string {
    const region = this.cloud.regionName;
    // A catalog may list a service type more than once (one entry per region): search them all.
    const endpoints = CATALOG_TYPES[service].flatMap((type) => token.catalog.filter((c) => c.type === type).flatMap((c) => c.endpoints));
    const endpoint = endpoints.find(
      (e) => e.interface === this.cloud.interface && (region === null || e.region_id === region || e.region === region),
    );
    if (!endpoint) {
      throw new Error(`cloud ${this.cloud.name}: no ${this.cloud.interface} ${service} endpoint${region ? ` in region ${region}` : ''} in the service catalog`);
    }
    const url = endpoint.url.replace(/\/+$/, '');
    const suffix = VERSION_SUFFIX[service];
    return suffix && !url.endsWith(suffix) ? `${url}${suffix}` : url;
  }

  /** The cached token, or a new one when absent or close to expiry (one auth at a time). */
  private async validToken(): Promise<Token> {
    const t = this.token;
    if (t) {
      // Refresh ahead of expiry: a call started on an almost-expired token could fail mid-flight.
      const margin = Math.min(300_000, (t.expiresAt - t.issuedAt) / 4);
      if (Date.now() < t.expiresAt - margin) return t;
    }
    if (!this.authenticating) {
      this.authenticating = this.authenticate().finally(() => (this.authenticating = null));
    }
    return this.authenticating;
  }

  private async authenticate(): Promise<Token> {
    const issuedAt = Date.now();
    const res = await this.transport.send(
      { method: 'POST', url: `${this.identityUrl}/auth/tokens`, body: { auth: this.authBody() }, idempotent: true },
      this.throttle('identity'),
    );
    const value = res.headers.get('x-subject-token');
    const body = res.body as { token?: { expires_at?: string; project?: { id?: string }; catalog?: CatalogEntry[] } } | null;
    if (!value || !body?.token) throw new Error(`cloud ${this.cloud.name}: Keystone answered without a token`);
    const expires = body.token.expires_at ? Date.parse(body.token.expires_at) : NaN;
    this.authCount++;
    this.token = {
      value,
      issuedAt,
      expiresAt: Number.isFinite(expires) ? expires : issuedAt + 3600_000,
      projectId: body.token.project?.id ?? null,
      catalog: body.token.catalog ?? [],
    };
    return this.token;
  }

  private authBody(): Record<string, unknown> {
    const a = this.cloud.auth;
    const domain = (name?: string, id?: string): Record<string, string> | undefined =>
      id ? { id } : name ? { name } : a.domain_id ? { id: a.domain_id } : a.domain_name ? { name: a.domain_name } : undefined;
    const scope = (): Record<string, unknown> | undefined => {
      if (a.project_id) return { project: { id: a.project_id } };
      if (a.project_name) return { project: { name: a.project_name, domain: domain(a.project_domain_name, a.project_domain_id) ?? { id: 'default' } } };
      return undefined;
    };
    switch (this.cloud.authType) {
      case 'application-credential': {
        // Application credentials carry their own scope; Keystone rejects an explicit one.
        const cred: Record<string, unknown> = { secret: a.application_credential_secret };
        if (a.application_credential_id) cred.id = a.application_credential_id;
        else cred.name = a.application_credential_name;
        if (!a.application_credential_id) {
          cred.user = a.user_id ? { id: a.user_id } : { name: a.username, domain: domain(a.user_domain_name, a.user_domain_id) ?? { id: 'default' } };
        }
        return { identity: { methods: ['application_credential'], application_credential: cred } };
      }
      case 'token':
        return { identity: { methods: ['token'], token: { id: a.token } }, scope: scope() };
      default: {
        const user = a.user_id
          ? { id: a.user_id, password: a.password }
          : { name: a.username, password: a.password, domain: domain(a.user_domain_name, a.user_domain_id) ?? { id: 'default' } };
        return { identity: { methods: ['password'], password: { user } }, scope: scope() };
      }
    }
  }
}
