/**
 * Requests ZkClient builds itself instead of going through node-zookeeper-client's helpers
 * (written against 1.1.3, see library-internals.ts).
 */
import zookeeper from 'node-zookeeper-client';
import type { ZkOp, ZkOpResult } from '../plugins/zookeeper';
import { jute, type RawClient, type RawOpResult } from './library-internals';
import { ZK_ERROR_CODES, zkErrorFromCode } from './zk-errors';
import { toZnodeStat } from './znode-stat';

type Done<T> = (err: unknown, value?: T) => void;

/** kazoo's default ACL: world:anyone, all permissions (spec §0). The typings omit the constant. */
const OPEN_ACL_UNSAFE = (zookeeper.ACL as unknown as { OPEN_ACL_UNSAFE: Array<{ toRecord(): unknown }> }).OPEN_ACL_UNSAFE;

function openAcl(): unknown[] {
  return OPEN_ACL_UNSAFE.map((acl) => acl.toRecord());
}

/**
 * Sequential create on a path ending in `/` (e.g. `/nodepool/nodes/` → `/nodepool/nodes/0000000042`),
 * which is how Nodepool names nodes. The server accepts it (it validates `path + sequence`), but
 * the library's `Path.validate` rejects a trailing `/`, so this builds the same jute
 * CreateRequest as `Client.prototype.create` and queues it directly. The connection manager still
 * applies the chroot to the request and strips it from the returned path.
 */
export function queueSequentialDirCreate(raw: RawClient, path: string, data: Buffer, flags: number, done: Done<string>): void {
  const header = new jute.protocol.RequestHeader();
  header.type = jute.OP_CODES.CREATE;
  const payload = new jute.protocol.CreateRequest();
  payload.path = path;
  payload.acl = openAcl();
  payload.flags = flags;
  payload.data = Buffer.from(data);
  raw.connectionManager.queue(new jute.Request(header, payload), (err, response) => {
    if (err) done(err);
    else done(null, response?.payload?.path);
  });
}

/** Create flags of the ZooKeeper protocol. */
export function createFlags(ephemeral: boolean | undefined, sequential: boolean | undefined): number {
  return (ephemeral ? 1 : 0) | (sequential ? 2 : 0);
}

/**
 * Commits `ops` atomically. The ops are pushed into the library's Transaction directly: its
 * builder methods turn version 0 into -1 (`version || -1`, silently unconditional) and reject a
 * trailing `/` on sequential creates.
 */
export function commitMulti(raw: RawClient, ops: readonly ZkOp[], done: Done<ZkOpResult[]>): void {
  const txn = raw.transaction() as unknown as { ops: Array<Record<string, unknown>>; commit(cb: (err: unknown, results?: RawOpResult[]) => void): void };
  for (const op of ops) {
    switch (op.op) {
      case 'create':
        txn.ops.push({
          type: jute.OP_CODES.CREATE, path: op.path, data: Buffer.from(op.data ?? Buffer.alloc(0)),
          acls: OPEN_ACL_UNSAFE, mode: createFlags(op.ephemeral, op.sequential),
        });
        break;
      case 'set':
        txn.ops.push({ type: jute.OP_CODES.SET_DATA, path: op.path, data: op.data, version: op.version ?? -1 });
        break;
      case 'delete':
        txn.ops.push({ type: jute.OP_CODES.DELETE, path: op.path, version: op.version ?? -1 });
        break;
      case 'check':
        txn.ops.push({ type: jute.OP_CODES.CHECK, path: op.path, version: op.version });
        break;
    }
  }
  txn.commit((err, results) => {
    if (err) {
      // A failed multi answers every op with an error result: OK for those before the culprit,
      // RUNTIME_INCONSISTENCY after it. Name the culprit's path in the error.
      const code = (err as { code?: number }).code ?? ZK_ERROR_CODES.SYSTEM_ERROR;
      const index = results?.findIndex((r) => r.err !== undefined && r.err !== 0 && r.err !== ZK_ERROR_CODES.RUNTIME_INCONSISTENCY) ?? -1;
      const culprit = index >= 0 ? ops[index] : undefined;
      done(zkErrorFromCode(code, culprit?.path ?? '(multi)', culprit ? `multi op ${index} (${culprit.op})` : 'multi'));
      return;
    }
    done(null, (results ?? []).map((r, i): ZkOpResult => {
      switch (ops[i].op) {
        case 'create':
          return { op: 'create', path: r.path ?? '' };
        case 'set':
          return { op: 'set', stat: toZnodeStat(r.stat as never) };
        case 'delete':
          return { op: 'delete' };
        default:
          return { op: 'check' };
      }
    }));
  });
}
