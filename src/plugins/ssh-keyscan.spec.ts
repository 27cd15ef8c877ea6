import net from 'node:net';
import { Server, utils } from 'ssh2';
import { nodescan } from './nodescan';
import { formatHostKey, scanHostKeys, SshHandshakeError } from './ssh-keyscan';

/** A real SSH server (ssh2's) with the given host keys, on a free loopback port. */
async function sshServer(hostKeys: string[]): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new Server({ hostKeys }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.reject());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function publicKeyOf(privatePem: string): string {
  const parsed = utils.parseKey(privatePem);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return formatHostKey(key.getPublicSSH() as Buffer);
}

describe('scanHostKeys', () => {
  it('gathers every host key the server has, one of each kind, matching the server keys', async () => {
    const ed = utils.generateKeyPairSync('ed25519');
    const rsa = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const ecdsa = utils.generateKeyPairSync('ecdsa', { bits: 256 });
    const srv = await sshServer([ed.private, rsa.private, ecdsa.private]);
    try {
      const keys = await scanHostKeys('127.0.0.1', srv.port, 5000);
      expect(keys.sort()).toEqual([publicKeyOf(ed.private), publicKeyOf(rsa.private), publicKeyOf(ecdsa.private)].sort());
      expect(keys.map((k) => k.split(' ')[0]).sort()).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    } finally {
      await srv.close();
    }
  });

  it('fails with a handshake error when the port is not an SSH server', async () => {
    const sockets = new Set<net.Socket>();
    const plain = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.end('HTTP/1.0 400 nope\r\n\r\n');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    try {
      await expect(scanHostKeys('127.0.0.1', (plain.address() as net.AddressInfo).port, 2000)).rejects.toThrow(SshHandshakeError);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it('nodescan of an ssh node returns the scanned keys; of a winrm node on the same port, none', async () => {
    const ed = utils.generateKeyPairSync('ed25519');
    const srv = await sshServer([ed.private]);
    try {
      expect(await nodescan({ host: '127.0.0.1', port: srv.port, connectionType: 'ssh', timeoutMs: 5000 })).toEqual([publicKeyOf(ed.private)]);
      expect(await nodescan({ host: '127.0.0.1', port: srv.port, connectionType: 'winrm', timeoutMs: 5000 })).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});
