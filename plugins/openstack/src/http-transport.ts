/**
 * One HTTP exchange with an OpenStack API, the way Nodepool's SDK use behaves: a timeout on every
 * call, a minimum interval between calls per service (provider `rate`), retries with backoff for
 * 5xx and 429 answers (honouring Retry-After) and connection errors, and over-limit answers
 * turned into {@link QuotaError}.
 */
import { QuotaError } from '@nodepool-ts/sdk';
import { Agent, fetch, type Response } from 'undici';
import type { CloudTls } from './clouds-yaml';

/** An API answered with an error status. */
export class OpenStackApiError extends Error {
  override readonly name = 'OpenStackApiError';
  constructor(
    message: string,
    /** HTTP status. */
    readonly status: number,
    /** `METHOD /path` without query, for messages. */
    readonly call: string,
  ) {
    super(message);
  }
}

/** The call did not get an answer (connection refused/reset, timeout) after all retries. */
export class OpenStackConnectionError extends Error {
  override readonly name = 'OpenStackConnectionError';
}

/** No answer, or a 5xx after the transport's retries: the cloud may be fine a moment later. */
export function isTransient(err: unknown): boolean {
  return err instanceof OpenStackConnectionError || (err instanceof OpenStackApiError && err.status >= 500);
}

/**
 * Message of an OpenStack error body: Nova `{"forbidden": {"message"}}`, Neutron
 * `{"NeutronError": {"message"}}`, Keystone `{"error": {"message"}}`, or the raw text.
 */
export function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const value of Object.values(body)) {
      if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
        return (value as { message: string }).message;
      }
    }
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: fall through to the text.
  }
  return text.slice(0, 300);
}

/**
 * Whether an error answer is a quota refusal: 413 (Nova over-limit), or a 403/409/400 whose
 * message says the quota is exceeded (Nova/Neutron), as Nodepool's adapter classifies them.
 */
export function isQuotaAnswer(status: number, message: string): boolean {
  if (status === 413) return true;
  const m = message.toLowerCase();
  const quotaText = m.includes('quota') && (m.includes('exceed') || m.includes('over'));
  return (status === 403 || status === 409 || status === 400) && (quotaText || m.includes('number of ports exceeded'));
}

/** Spaces calls to one service at least `intervalMs` apart, in call order. */
export class Throttle {
  private next = 0;

  constructor(private readonly intervalMs: number) {}

  /** Resolves when the caller may send. */
  async wait(): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}

/** Retry and timeout settings of a transport. */
export interface TransportOptions {
  /** Per-attempt timeout, ms (default 30000). */
  timeoutMs?: number;
  /** Attempts for retryable failures, including the first (default 4). */
  attempts?: number;
  /** First backoff, ms; doubled each retry with ±25 % jitter (default 500). */
  backoffMs?: number;
  /** Backoff cap, ms (default 8000). */
  maxBackoffMs?: number;
  /** Told about every attempt (for API metrics): status 0 when no answer came. */
  onCall?: (call: CallRecord) => void;
  /** clouds.yaml TLS settings (CA, client certificate, `verify: false`); default: system CAs. */
  tls?: CloudTls;
}

/** One HTTP attempt, as reported to {@link TransportOptions.onCall}. */
export interface CallRecord {
  method: string;
  /** The request path (no query). */
  path: string;
  status: number;
  seconds: number;
}

/** A request as the transport sends it. */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * Whether a failure after which the server may have acted can be retried. Defaults to true
   * except for POST (a retried create could make two servers; callers check and retry themselves).
   */
  idempotent?: boolean;
}

/** An answer with a 2xx status. */
export interface TransportResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty body. */
  body: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends requests with timeout, throttle and retries; see the module comment. */
export class HttpTransport {
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly onCall: TransportOptions['onCall'];
  private readonly dispatcher: Agent | undefined;

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.onCall = options.onCall;
    const tls = options.tls;
    if (tls && (!tls.verify || tls.ca || tls.cert)) {
      // As with requests' `verify=<bundle>`, a `cacert` replaces the system CAs for this cloud.
      this.dispatcher = new Agent({
        connect: { rejectUnauthorized: tls.verify, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert, key: tls.key ?? undefined } : {}) },
      });
    }
  }

  /**
   * Sends `req` after `throttle` allows it. Rejects with {@link QuotaError} for over-limit
   * answers, {@link OpenStackApiError} for other error statuses (after retries for 5xx), and
   * {@link OpenStackConnectionError} when no answer came.
   */
  async send(req: TransportRequest, throttle?: Throttle): Promise<TransportResponse> {
    const call = `${req.method} ${new URL(req.url).pathname}`;
    // Messages name the whole URL (origin without credentials, path without query), so an
    // operator sees which cloud endpoint answered badly; `call` stays the short form for metrics.
    const target = new URL(req.url);
    const where = `${req.method} ${target.origin}${target.pathname}`;
    const idempotent = req.idempotent ?? req.method !== 'POST';
    let lastError: Error = new Error(`${call}: not sent`);
    let retryAfterMs = 0;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep(Math.max(this.backoff(attempt - 1), retryAfterMs));
      retryAfterMs = 0;
      await throttle?.wait();
      let res: Response;
      let text: string;
      const started = performance.now();
      const report = (status: number): void => {
        try {
          this.onCall?.({ method: req.method, path: new URL(req.url).pathname, status, seconds: (performance.now() - started) / 1000 });
        } catch {
          // Metrics must never break a call.
        }
      };
      try {
        res = await fetch(req.url, {
          method: req.method,
          headers: { Accept: 'application/json', ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...req.headers },
          body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
          signal: AbortSignal.timeout(this.timeoutMs),
          dispatcher: this.dispatcher,
        });
        text = await res.text();
        report(res.status);
      } catch (err) {
        report(0);
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        const why = (err as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : `${(err as Error).message}${cause ? ` (${cause})` : ''}`;
        lastError = new OpenStackConnectionError(`${where}: ${why}`);
        // A non-idempotent request may have been acted on before the connection failed.
        if (!idempotent) throw lastError;
        continue;
      }
      if (res.ok) return { status: res.status, headers: res.headers, body: text.length > 0 ? parseJson(text, where, call) : null };
      const message = errorMessageOf(text);
      if (isQuotaAnswer(res.status, message)) throw new QuotaError(`${where}: ${message}`);
      lastError = new OpenStackApiError(`${where}: HTTP ${res.status}: ${message}`, res.status, call);
      // The server says when to come back (429/503); honoured up to the backoff cap.
      retryAfterMs = Math.min(this.maxBackoffMs, retryAfterOf(res.headers.get('retry-after')));
      // 429: the request was turned away before anything happened, so even a create is retried.
      if (res.status === 429) continue;
      // A 5xx means the request failed; a create is still not retried (it may have half-happened).
      if (res.status < 500 || !idempotent) throw lastError;
    }
    throw lastError;
  }

  private backoff(retry: number): number {
    const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (retry - 1));
    return base * (0.75 + Math.random() * 0.5);
  }
}

/** `Retry-After` in ms (seconds or an HTTP date); 0 when absent or unreadable. */
function retryAfterOf(value: string | null): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 0;
}

function parseJson(text: string, where: string, call: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // No excerpt of the body: a confused proxy may echo a request (with credentials) back.
    throw new OpenStackApiError(`${where}: answer is not JSON`, 200, call);
  }
}
