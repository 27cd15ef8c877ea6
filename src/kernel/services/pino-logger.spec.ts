import { Writable } from 'node:stream';
import { MAX_LOG_LINE, boundLine, censorSecrets, createLogger } from './pino-logger';

describe('secret censoring in logs', () => {
  it('censors secret keys at any depth and leaves the input and other values alone', () => {
    const input = { cloud: { name: 'sim', auth: { application_credential_secret: 's3', password: 'p', username: 'u' } }, list: [{ token: 't' }], tokens: 3 };
    expect(censorSecrets(input)).toEqual({
      cloud: { name: 'sim', auth: { application_credential_secret: '[redacted]', password: '[redacted]', username: 'u' } },
      list: [{ token: '[redacted]' }],
      tokens: 3,
    });
    expect(input.cloud.auth.password).toBe('p');
  });

  it('applies to every logged line, deep below the fixed redact paths', () => {
    let out = '';
    const stream = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    createLogger({ level: 'debug', format: 'json', stream }).child({ component: 'x' }).debug('m', { a: { b: { c: { application_credential_secret: 'deep-secret', x_auth_token: 1 } } } });
    expect(out).not.toContain('deep-secret');
    expect(out).toContain('[redacted]');
  });
});

describe('log line bound', () => {
  function capture(): { stream: Writable; lines: () => string[] } {
    let out = '';
    const stream = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    return { stream, lines: () => out.split('\n').filter((l) => l) };
  }

  it('cuts a line with a huge message or field to MAX_LOG_LINE bytes, saying how long it was', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'info', format: 'json', stream }).child({ component: 'zk' });
    log.error(`skipping unreadable request /nodepool/requests/300-0000000001: ${'x'.repeat(350_000)}`, { path: '/nodepool/requests/300-0000000001', body: { node_types: Array.from({ length: 50_000 }, (_, i) => `l${i}`) } });
    log.info('short', { request: '100-0000000002' });
    const [long, short] = lines();
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_LOG_LINE);
    const parsed = JSON.parse(long) as Record<string, unknown>;
    expect(parsed.msg).toContain('/nodepool/requests/300-0000000001');
    expect(parsed.path).toBe('/nodepool/requests/300-0000000001');
    expect(parsed.truncated).toBeGreaterThan(350_000);
    expect(JSON.parse(short)).toMatchObject({ msg: 'short', request: '100-0000000002' });
    expect(short).not.toContain('truncated');
  });

  it('bounds multi-byte text and lines that are not JSON', () => {
    expect(Buffer.byteLength(boundLine(JSON.stringify({ level: 50, msg: '€'.repeat(5000), a: '€'.repeat(5000) })))).toBeLessThanOrEqual(MAX_LOG_LINE);
    expect(Buffer.byteLength(boundLine('not json '.repeat(1000)))).toBeLessThanOrEqual(MAX_LOG_LINE);
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(150)]));
    expect(Buffer.byteLength(boundLine(JSON.stringify({ level: 30, msg: 'm', ...many })))).toBeLessThanOrEqual(MAX_LOG_LINE);
  });
});
