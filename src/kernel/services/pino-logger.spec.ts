import { Writable } from 'node:stream';
import { censorSecrets, createLogger } from './pino-logger';

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
