/**
 * The parts of node-zookeeper-client's internals that ZkClient touches, typed in one place.
 *
 * Written against node-zookeeper-client **1.1.3** (pinned exactly in package.json). The library
 * has no TLS, rejects a trailing `/` on sequential creates, and its `Transaction` turns version 0
 * into -1 (`version || -1`), so we reach into `ConnectionManager` and the jute records. If the
 * version changes, re-read `index.js`, `lib/ConnectionManager.js` and `lib/jute/index.js` and
 * run test/integration/zk-*.test.ts.
 */
import type { Socket } from 'node:net';
import type { Client } from 'node-zookeeper-client';

/** `ConnectionManager.STATES` of lib/ConnectionManager.js. */
export const CM_STATES = {
  DISCONNECTED: 0,
  CONNECTING: 1,
  CONNECTED: 2,
  CONNECTED_READ_ONLY: 3,
  CLOSING: -1,
  CLOSED: -2,
  SESSION_EXPIRED: -3,
  AUTHENTICATION_FAILED: -4,
} as const;

/** A `{host, port}` entry of the parsed connect string. */
export interface CmServer {
  host: string;
  port: number | string;
}

/** A jute request as `ConnectionManager.queue` takes it. */
export interface JuteRequest {
  header: { type: number; xid: number } | null;
  payload: unknown;
}

/** A reply delivered to a queued request's callback. */
export interface JuteResponse {
  header: { err: number };
  payload: { path?: string } | null;
}

/** The instance fields and methods of `ConnectionManager` we use or replace. */
export interface ConnectionManagerInternals {
  state: number;
  socket: Socket | undefined;
  sessionTimeout: number;
  connectTimeout: number;
  connectTimeoutHandler: NodeJS.Timeout | null;
  chrootPath: string | undefined;
  /** Received bytes after the last whole reply parsed (lib/ConnectionManager.js onSocketData). */
  pendingBuffer: Buffer | null;
  setState(state: number): void;
  findNextServer(callback: (server: CmServer) => void): void;
  connect(): void;
  queue(request: JuteRequest, callback?: (err: unknown, response?: JuteResponse) => void): void;
  onSocketConnected(): void;
  onSocketData(buffer: Buffer): void;
  onSocketDrain(): void;
  onSocketClosed(hadError: boolean): void;
  onSocketError(error: Error): void;
  onSocketConnectTimeout(): void;
}

/** A library client with its (undocumented but stable) `connectionManager`. */
export type RawClient = Client & { connectionManager: ConnectionManagerInternals };

/** The jute protocol module (`node-zookeeper-client/lib/jute`). */
export interface JuteModule {
  OP_CODES: Record<'CREATE' | 'DELETE' | 'SET_DATA' | 'CHECK' | 'MULTI', number>;
  protocol: {
    RequestHeader: new () => { type: number; xid: number };
    CreateRequest: new () => { path: string; acl: unknown[]; flags: number; data: Buffer | undefined };
  };
  Request: new (header: unknown, payload: unknown) => JuteRequest;
}

/** The library's transaction with its op list (we push ops ourselves, see zk-multi.ts). */
export interface RawTransaction {
  ops: Array<Record<string, unknown>>;
  commit(callback: (err: unknown, results?: RawOpResult[]) => void): void;
}

/** One entry of a multi reply. */
export interface RawOpResult {
  type: number;
  path?: string;
  stat?: unknown;
  err?: number;
}

// Loaded with require: the jute module ships no typings and is not part of the public API.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const jute: JuteModule = require('node-zookeeper-client/lib/jute');
