/**
 * Typed errors for ZooKeeper operations.
 *
 * node-zookeeper-client reports failures as its own `Exception` objects (`{name: 'NO_NODE',
 * code: -101}`) that carry no path and cannot be told apart with `instanceof`. Every ZkClient
 * operation converts them with {@link toZkError}, so callers can write
 * `catch (e) { if (e instanceof NoNodeError) ... }` and every log line names the znode.
 */

/** ZooKeeper's error codes (`KeeperException.Code`), as the server sends them. */
export const ZK_ERROR_CODES = {
  OK: 0,
  SYSTEM_ERROR: -1,
  RUNTIME_INCONSISTENCY: -2,
  DATA_INCONSISTENCY: -3,
  CONNECTION_LOSS: -4,
  MARSHALLING_ERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATION_TIMEOUT: -7,
  BAD_ARGUMENTS: -8,
  API_ERROR: -100,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_CALLBACK: -113,
  INVALID_ACL: -114,
  AUTH_FAILED: -115,
} as const;

/** Name of a known error code (`NO_NODE`), for messages. */
export function zkCodeName(code: number): string {
  for (const [name, value] of Object.entries(ZK_ERROR_CODES)) if (value === code) return name;
  return `ZK_ERROR_${code}`;
}

/** Any failed ZooKeeper operation. `path` is the znode the operation was about. */
export class ZkError extends Error {
  constructor(
    /** ZooKeeper error code (negative), see {@link ZK_ERROR_CODES}. */
    readonly code: number,
    /** The znode path the failed operation addressed (relative to the chroot). */
    readonly path: string,
    /** Extra detail (operation name, cause). */
    detail?: string,
  ) {
    super(`${zkCodeName(code)} (${code}) on ${path}${detail ? `: ${detail}` : ''}`);
    this.name = new.target.name;
  }
}

/** The znode does not exist. */
export class NoNodeError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.NO_NODE, path, detail);
  }
}

/** The znode already exists. */
export class NodeExistsError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.NODE_EXISTS, path, detail);
  }
}

/** A version-checked write found a different version. */
export class BadVersionError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.BAD_VERSION, path, detail);
  }
}

/** Delete of a znode that still has children. */
export class NotEmptyError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.NOT_EMPTY, path, detail);
  }
}

/**
 * The connection dropped before the reply arrived: the operation may or may not have been applied
 * (that is why sequential creates must never be retried blindly).
 */
export class ConnectionLossError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.CONNECTION_LOSS, path, detail);
  }
}

/** The session ended (expired on the server or declared lost by us); its ephemerals are gone. */
export class SessionExpiredError extends ZkError {
  constructor(path: string, detail?: string) {
    super(ZK_ERROR_CODES.SESSION_EXPIRED, path, detail);
  }
}

const BY_CODE: Record<number, new (path: string, detail?: string) => ZkError> = {
  [ZK_ERROR_CODES.NO_NODE]: NoNodeError,
  [ZK_ERROR_CODES.NODE_EXISTS]: NodeExistsError,
  [ZK_ERROR_CODES.BAD_VERSION]: BadVersionError,
  [ZK_ERROR_CODES.NOT_EMPTY]: NotEmptyError,
  [ZK_ERROR_CODES.CONNECTION_LOSS]: ConnectionLossError,
  [ZK_ERROR_CODES.SESSION_EXPIRED]: SessionExpiredError,
};

/** Builds the typed error for a code. */
export function zkErrorFromCode(code: number, path: string, detail?: string): ZkError {
  const Ctor = BY_CODE[code];
  return Ctor ? new Ctor(path, detail) : new ZkError(code, path, detail);
}

/**
 * Converts whatever node-zookeeper-client reported into a typed error naming `path`.
 * Library exceptions carry a numeric `code`; anything else (e.g. an AssertionError from the
 * library's argument checks) becomes BAD_ARGUMENTS with the original message.
 */
export function toZkError(err: unknown, path: string, operation?: string): Error {
  if (err instanceof ZkError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code < 0) {
    return zkErrorFromCode(code, path, operation);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ZkError(ZK_ERROR_CODES.BAD_ARGUMENTS, path, operation ? `${operation}: ${message}` : message);
}
