/**
 * One ZooKeeper session: one node-zookeeper-client instance, its socket factory and its watchdog.
 * ZkClient replaces the whole ZkSession when the session is lost, because the library never
 * leaves SESSION_EXPIRED on its own.
 */
import zookeeper from 'node-zookeeper-client';
import { CM_STATES, type RawClient } from './library-internals';
import { interceptNotifications, type RawNotification } from './persistent-watch';
import { installConnector, type LoadedTls } from './tls-connection';
import { ConnectionLossError, SessionExpiredError, toZkError } from './zk-errors';
import { sessionIdHex } from './znode-stat';

/** Settings of one session. */
export interface ZkSessionOptions {
  /** `host:port,...[/chroot]` as the library parses it. */
  connectString: string;
  /** Requested session timeout, ms (the server may clamp it). */
  sessionTimeout: number;
  /** Max random wait between rounds of connection attempts, ms. */
  spinDelay: number;
  tls: LoadedTls | undefined;
}

/** What the session reports to its owner. */
export interface ZkSessionListener {
  connected(session: ZkSession): void;
  disconnected(session: ZkSession): void;
  expired(session: ZkSession): void;
  /** Every watch notification of this session (see persistent-watch.ts). */
  notification(session: ZkSession, event: RawNotification): void;
}

/** Rejects a pending operation when the session is dropped under it. */
type PendingReject = (err: Error) => void;

/** A single ZooKeeper session; see the module comment. */
export class ZkSession {
  readonly raw: RawClient;
  private disposed = false;
  private lastHeard = Date.now();
  private lastSocketError: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly pending = new Set<PendingReject>();
  private everConnected = false;
  private closing = false;

  constructor(
    options: ZkSessionOptions,
    private readonly listener: ZkSessionListener,
  ) {
    // retries: 0 — the library's own retry on CONNECTION_LOSS would resend a create whose reply
    // was lost, duplicating sequential znodes (lock contenders, node ids).
    this.raw = zookeeper.createClient(options.connectString, {
      sessionTimeout: options.sessionTimeout,
      spinDelay: options.spinDelay,
      retries: 0,
    }) as RawClient;
    const cm = this.raw.connectionManager;
    installConnector(cm, options.tls, {
      isDisposed: () => this.disposed,
      onAttempt: () => (this.lastHeard = Date.now()),
      onError: (err) => (this.lastSocketError = err),
    });
    // Count every byte from the server as a sign of life for the read watchdog. Replacing the
    // method on the instance is enough: the connector binds `this.onSocketData` per socket.
    const heard = (): void => {
      this.lastHeard = Date.now();
    };
    //
    // The library parses one reply per call and re-enters itself with an empty buffer for the
    // rest, which it joins to its remainder with Buffer.concat: a copy of the whole remainder per
    // reply, ~20 MB of copying per 64 KB chunk of small replies, and at thousands of replies a
    // second the largest part of a launcher's malloc'd memory. Joining with nothing is the
    // remainder itself, so that call gets the remainder directly: same bytes, same order, same
    // parse, no copy.
    const onSocketData = cm.onSocketData;
    cm.onSocketData = function (this: typeof cm, buffer: Buffer): void {
      heard();
      const rest = this.pendingBuffer;
      if (buffer.length === 0 && rest) {
        this.pendingBuffer = null;
        onSocketData.call(this, rest);
        return;
      }
      onSocketData.call(this, buffer);
    };
    // Events of a session being closed or dropped are of no interest to the owner.
    const active = (): boolean => !this.disposed && !this.closing;
    interceptNotifications(cm, (event) => {
      if (active()) this.listener.notification(this, event);
    });
    this.raw.on('connected', () => {
      if (!active()) return;
      this.everConnected = true;
      this.listener.connected(this);
    });
    this.raw.on('disconnected', () => {
      if (active()) this.listener.disconnected(this);
    });
    this.raw.on('expired', () => {
      if (active()) this.listener.expired(this);
    });
  }

  /** Starts connecting (the library keeps retrying until disposed). */
  start(): void {
    this.raw.connect();
    this.startWatchdog();
  }

  /** Session id in hex once connected, else null. */
  get sessionId(): string | null {
    return this.everConnected ? sessionIdHex(this.raw.getSessionId()) : null;
  }

  /** Negotiated session timeout in ms (the requested one until connected). */
  get timeout(): number {
    return this.raw.connectionManager.sessionTimeout;
  }

  /** Whether the library is connected right now. */
  get isConnected(): boolean {
    return this.raw.connectionManager.state === CM_STATES.CONNECTED;
  }

  /** The last socket error (e.g. a TLS handshake refusal), for failure messages. */
  get lastError(): Error | undefined {
    return this.lastSocketError;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Runs one library call and converts its outcome. The call is tracked so that disposing the
   * session rejects it: requests still queued in the library when its session dies are never
   * answered.
   */
  call<T>(path: string, operation: string, invoke: (raw: RawClient, done: (err: unknown, value?: T) => void) => void): Promise<T> {
    if (this.disposed) return Promise.reject(new SessionExpiredError(path, `${operation}: session closed`));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let deadline: NodeJS.Timeout | undefined;
      const fail: PendingReject = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      if (!this.isConnected) {
        // The library holds requests made while disconnected until it reconnects, however long
        // that takes. Give up after a session timeout, as a ConnectionLoss: the request may still
        // be sent later, which is exactly what ConnectionLoss allows ("maybe applied").
        deadline = setTimeout(() => fail(new ConnectionLossError(path, `${operation}: not connected within ${this.timeout} ms`)), this.timeout);
        deadline.unref();
      }
      try {
        invoke(this.raw, (err, value) => {
          if (settled) return;
          if (err) return fail(toZkError(err, path, operation));
          settled = true;
          clearTimeout(deadline);
          this.pending.delete(fail);
          resolve(value as T);
        });
      } catch (err) {
        fail(toZkError(err, path, operation));
      }
    });
  }

  /**
   * Drops the session at once: no reconnects, socket destroyed, pending calls rejected with
   * `reason`. The server expires the session on its own if it is still alive.
   */
  dispose(reason: 'expired' | 'closed'): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopWatchdog();
    const cm = this.raw.connectionManager;
    // CLOSING makes the library's close handler skip its reconnect (CLOSED would not).
    cm.setState(CM_STATES.CLOSING);
    cm.socket?.destroy();
    for (const fail of [...this.pending]) {
      fail(reason === 'expired' ? new SessionExpiredError('/', 'session lost') : new ConnectionLossError('/', 'client closed'));
    }
  }

  /** Ends the session on the server (closeSession) when connected, then disposes. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.disposed || this.closing) return;
    if (!this.isConnected) {
      this.dispose('closed');
      return;
    }
    this.closing = true;
    this.stopWatchdog();
    const socket = this.raw.connectionManager.socket;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      // The server closes the socket once it has ended the session.
      socket?.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.raw.close();
    });
    this.dispose('closed');
  }

  /**
   * The library never notices a silent connection (no read timeout). Like the Java client, treat
   * 2/3 of the session timeout without a byte from the server as a dead link and drop the socket;
   * the library then reports `disconnected` and reconnects. Pings go out every third of the
   * timeout while idle, so a live server always answers in time.
   */
  private startWatchdog(): void {
    const tick = (): void => {
      const cm = this.raw.connectionManager;
      const live = cm.state === CM_STATES.CONNECTED || cm.state === CM_STATES.CONNECTING;
      const readTimeout = Math.floor((this.timeout * 2) / 3);
      if (live && cm.socket && Date.now() - this.lastHeard > readTimeout) {
        this.lastHeard = Date.now();
        cm.socket.destroy();
      }
    };
    this.watchdog = setInterval(tick, Math.max(50, Math.floor(this.timeout / 10)));
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
