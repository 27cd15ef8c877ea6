/**
 * ZooKeeper 3.6+ persistent recursive watches (`addWatch`, opcode 106), which
 * node-zookeeper-client 1.1.3 does not speak (see library-internals.ts for the technique).
 *
 * A persistent recursive watch on P reports every create, data change and delete at or below P,
 * without being re-armed, as ordinary notifications (xid -1). The library hands each
 * notification to its WatcherManager, which only serves its own one-shot watches and drops the
 * rest, so the session wraps `watcherManager.emit` ({@link interceptNotifications}) and passes
 * every notification on. The server keeps the watch per connection: after any reconnect it is
 * gone (the library's SET_WATCHES only restores one-shot watches) and must be added again, and
 * changes made meanwhile must be read afresh.
 */
import type { ZkWatchEvent } from '../plugins/zookeeper';
import { jute, type ConnectionManagerInternals, type RawClient } from './library-internals';
import { ZK_ERROR_CODES, ZkError } from './zk-errors';

/** `addWatch` opcode (ZooDefs.OpCode.addWatch). */
const ADD_WATCH = 106;
/** AddWatchMode.PERSISTENT_RECURSIVE. */
export const PERSISTENT_RECURSIVE = 1;

/** A notification as the library decodes it (chroot already stripped from `path`). */
export interface RawNotification {
  type: number;
  path: string;
}

const EVENT_TYPES: Record<number, ZkWatchEvent['type']> = { 1: 'created', 2: 'deleted', 3: 'changed', 4: 'children' };

/** Converts a raw notification; undefined for types we do not follow (e.g. watch removed). */
export function toPersistentEvent(raw: RawNotification): ZkWatchEvent | undefined {
  const type = EVENT_TYPES[raw.type];
  return type ? { type, path: raw.path } : undefined;
}

/**
 * Queues an AddWatchRequest (`ustring path, int mode`). The library picks the reply parser by
 * the request header's `type`, and knows no parser for 106 (it would drop the connection), so
 * the header reports itself as DELETE, whose reply also has no body, while it writes 106 on the
 * wire. The connection manager sets `xid` and applies the chroot as for any request.
 */
export function queueAddWatch(raw: RawClient, path: string, mode: number, done: (err: unknown) => void): void {
  const header = {
    xid: 0,
    type: jute.OP_CODES.DELETE,
    byteLength: (): number => 8,
    serialize(buffer: Buffer, offset: number): number {
      buffer.writeInt32BE(this.xid, offset);
      buffer.writeInt32BE(ADD_WATCH, offset + 4);
      return 8;
    },
  };
  const payload = {
    chrootPath: undefined as string | undefined,
    setChrootPath(chroot: string | undefined): void {
      this.chrootPath = chroot;
    },
    fullPath(): Buffer {
      const chroot = this.chrootPath;
      return Buffer.from(!chroot ? path : path === '/' ? chroot : chroot + path, 'utf8');
    },
    byteLength(): number {
      return 4 + this.fullPath().length + 4;
    },
    serialize(buffer: Buffer, offset: number): number {
      const bytes = this.fullPath();
      buffer.writeInt32BE(bytes.length, offset);
      bytes.copy(buffer, offset + 4);
      buffer.writeInt32BE(mode, offset + 4 + bytes.length);
      return 8 + bytes.length;
    },
  };
  raw.connectionManager.queue(new jute.Request(header, payload), (err) => done(err ?? null));
}

/** A server without `addWatch` (before 3.6) answers UNIMPLEMENTED. */
export function isUnimplemented(err: unknown): boolean {
  return err instanceof ZkError && err.code === ZK_ERROR_CODES.UNIMPLEMENTED;
}

/**
 * Passes every notification of this connection manager to `listener` before the library's own
 * dispatch (which serves one-shot watches and ignores paths it does not know). Runs in the
 * socket's data handler, in wire order with the replies: a notification caused by one of our
 * writes arrives before that write's reply.
 */
export function interceptNotifications(cm: ConnectionManagerInternals, listener: (event: RawNotification) => void): void {
  const manager = (cm as unknown as { watcherManager: { emit(event: RawNotification): void } }).watcherManager;
  const emit = manager.emit;
  manager.emit = function (this: unknown, event: RawNotification): void {
    try {
      listener(event);
    } finally {
      emit.call(this, event);
    }
  };
}
