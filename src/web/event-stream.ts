/**
 * `/events`: server-sent events telling the dashboard which listings changed, so it re-reads
 * only those, and only when something moved. Each event carries a counter per listing kind
 * (`nodes`, `requests`, `pools`, `launchers`); the first one on a connection carries the current
 * counters, so a client that reconnects after missing events re-reads what it missed. Changes
 * are coalesced (a burst of 6000 node events becomes a few messages); bodies stay tiny, the
 * listings themselves come from the cached JSON endpoints that every viewer shares.
 */
import type http from 'node:http';
import type { StatusCacheKind } from './status-cache';

/** Options of {@link EventStream}. */
export interface EventStreamOptions {
  /** Changes within this window go out as one event, ms. */
  coalesceMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream, ms. */
  heartbeatMs?: number;
  /** Streams open at once; more get 503 (each holds a socket for as long as the page is open). */
  maxClients?: number;
}

const KINDS: readonly StatusCacheKind[] = ['nodes', 'requests', 'pools', 'launchers'];

/** See the module comment; one per web app. */
export class EventStream {
  private readonly clients = new Set<http.ServerResponse>();
  private readonly counters: Record<StatusCacheKind, number> = { nodes: 0, requests: 0, pools: 0, launchers: 0 };
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly coalesceMs: number;
  private readonly heartbeatMs: number;
  private readonly maxClients: number;

  constructor(options: EventStreamOptions = {}) {
    this.coalesceMs = options.coalesceMs ?? 250;
    this.heartbeatMs = options.heartbeatMs ?? 15000;
    this.maxClients = options.maxClients ?? 64;
  }

  /** Open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Records a change of `kind`; the clients hear of it within the coalescing window. */
  notify(kind: StatusCacheKind): void {
    this.counters[kind]++;
    if (this.clients.size === 0 || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.broadcast(this.message());
    }, this.coalesceMs);
  }

  /** Answers one `/events` request: a stream kept open, or 503 when too many are. Returns the status. */
  attach(req: http.IncomingMessage, res: http.ServerResponse): number {
    if (this.clients.size >= this.maxClients) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=UTF-8', 'Retry-After': '30' });
      res.end('Too many event streams');
      return 503;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Access-Control-Allow-Origin': '*',
      // Reverse proxies that buffer responses would hold events back until the buffer fills.
      'X-Accel-Buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return 200;
    }
    res.write(`retry: 3000\n${this.message()}`);
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopHeartbeat();
    };
    res.on('close', drop);
    res.on('error', drop);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), this.heartbeatMs);
      this.heartbeat.unref();
    }
    return 200;
  }

  /** Ends every stream (the web app is stopping). */
  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.stopHeartbeat();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private message(): string {
    const data: Record<string, number> = {};
    for (const kind of KINDS) data[kind] = this.counters[kind];
    return `event: change\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private broadcast(text: string): void {
    for (const res of this.clients) res.write(text);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
