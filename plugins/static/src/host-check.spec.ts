import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';
import { checkHost, resolveHost, StaticHostError, tcpReachable } from './host-check';
import type { StaticNodeConfig } from './static-provider-schema';

function hostConfig(overrides: Partial<StaticNodeConfig>): StaticNodeConfig {
  return {
    name: '127.0.0.1', labels: ['small'], username: 'zuul', timeout: 1, 'host-key-checking': true, 'host-key': ['ssh-rsa AAAA'],
    'connection-type': 'ssh', 'connection-port': 22, 'shell-type': null, 'python-path': 'auto', 'max-parallel-jobs': 1, ...overrides,
  };
}

async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    return await fn((srv.address() as AddressInfo).port);
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

async function closedPort(): Promise<number> {
  return withServer(async (port) => port);
}

describe('host check (spec drivers-config §2.3)', () => {
  it('a listening port is enough for winrm (no keys); ssh also needs an SSH handshake', async () => {
    await withServer(async (port) => {
      expect(await tcpReachable('127.0.0.1', port, 1)).toBe(true);
      expect(await checkHost(hostConfig({ 'connection-port': port, 'connection-type': 'winrm' }), 't')).toEqual([]);
      await expect(checkHost(hostConfig({ 'connection-port': port }), '(t)')).rejects.toThrow('(t): ConnectionTimeoutException');
    });
  });

  it('scans the keys of a real SSH server; every configured host-key must be among them', async () => {
    const ed = utils.generateKeyPairSync('ed25519');
    const rsa = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const server = new Server({ hostKeys: [ed.private, rsa.private] }, (c) => {
      c.on('error', () => undefined);
      c.on('authentication', (ctx) => ctx.reject());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const edPublic = `ssh-ed25519 ${ed.public.split(/\s+/)[1]}`;
      const keys = await checkHost(hostConfig({ 'connection-port': port, 'host-key': [`${edPublic} root@host`] }), 't');
      expect(keys.map((k) => k.split(' ')[0]).sort()).toEqual(['ssh-ed25519', 'ssh-rsa']);
      expect(keys).toContain(edPublic);
      expect(await checkHost(hostConfig({ 'connection-port': port, 'host-key': [] }), 't')).toEqual(keys);
      await expect(checkHost(hostConfig({ 'connection-port': port, 'host-key': ['ssh-rsa AAAAnotthekey'] }), '(h, zuul, 22)'))
        .rejects.toThrow(/^\(h, zuul, 22\): host key mismatches \(ssh-ed25519 /);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('gives up on a closed port after the timeout with ConnectionTimeoutException', async () => {
    const port = await closedPort();
    const started = Date.now();
    await expect(checkHost(hostConfig({ 'connection-port': port }), '(127.0.0.1, zuul, 1)')).rejects.toThrow(
      new StaticHostError('(127.0.0.1, zuul, 1): ConnectionTimeoutException'),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('with checking off, ssh touches no network but winrm still needs the port', async () => {
    const port = await closedPort();
    expect(await checkHost(hostConfig({ 'connection-port': port, 'host-key-checking': false }), 't')).toEqual(['ssh-rsa AAAA']);
    await expect(checkHost(hostConfig({ 'connection-port': port, 'host-key-checking': false, 'connection-type': 'winrm' }), 't')).rejects.toThrow(/ConnectionTimeoutException/);
  });

  it('resolves addresses by family and skips names containing fake', async () => {
    expect(await resolveHost('127.0.0.1', 't')).toEqual({ public_ipv4: '127.0.0.1', public_ipv6: null });
    expect(await resolveHost('::1', 't')).toEqual({ public_ipv4: null, public_ipv6: '::1' });
    expect(await resolveHost('fake-host.invalid', 't')).toEqual({ public_ipv4: null, public_ipv6: null });
    await expect(resolveHost('no-such-host.invalid', '(x)')).rejects.toThrow(/^\(x\): cannot resolve no-such-host\.invalid/);
  });
});
