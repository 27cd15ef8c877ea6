import { BadVersionError, ConnectionLossError, NodeExistsError, NoNodeError, NotEmptyError, SessionExpiredError, ZkError, toZkError } from './zk-errors';

describe('toZkError', () => {
  test.each([
    [{ name: 'NO_NODE', code: -101 }, NoNodeError],
    [{ name: 'NODE_EXISTS', code: -110 }, NodeExistsError],
    [{ name: 'BAD_VERSION', code: -103 }, BadVersionError],
    [{ name: 'NOT_EMPTY', code: -111 }, NotEmptyError],
    [{ name: 'CONNECTION_LOSS', code: -4 }, ConnectionLossError],
    [{ name: 'SESSION_EXPIRED', code: -112 }, SessionExpiredError],
  ])('maps library exception %j to its typed error, naming the path', (raw, Type) => {
    const err = toZkError(raw, '/nodepool/nodes/0000000001', 'get');
    expect(err).toBeInstanceOf(Type);
    expect(err).toBeInstanceOf(ZkError);
    expect(err.message).toContain('/nodepool/nodes/0000000001');
    expect((err as ZkError).code).toBe(raw.code);
    expect((err as ZkError).path).toBe('/nodepool/nodes/0000000001');
    expect(err.name).toBe(Type.name);
  });

  test('other codes become a generic ZkError; argument errors become BAD_ARGUMENTS', () => {
    const noAuth = toZkError({ code: -102 }, '/x') as ZkError;
    expect(noAuth.constructor).toBe(ZkError);
    expect(noAuth.message).toBe('NO_AUTH (-102) on /x');
    const bad = toZkError(new Error('Node path must not end with / character.'), '/x/', 'create') as ZkError;
    expect(bad.code).toBe(-8);
    expect(bad.message).toContain('/x/');
    expect(bad.message).toContain('must not end with /');
  });

  test('typed errors pass through unchanged', () => {
    const err = new NoNodeError('/a');
    expect(toZkError(err, '/b')).toBe(err);
  });
});
