/**
 * Mutual TLS to a real ZooKeeper (Debian server, NettyServerCnxnFactory, secureClientPort with
 * clientAuth=need), using certificates generated with openssl at test time.
 */
import { ZkClient } from '../../src/zk/zk-client';
import type { ZkTlsOptions } from '../../src/zk/tls-connection';
import { generateTestCerts, type TestCerts } from '../support/tls-certs';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

// jest's testTimeout in a `projects` entry is ignored (it is a global option), so set it here.
jest.setTimeout(30000);

let certs: TestCerts;
let server: ZooKeeperServer;

beforeAll(async () => {
  certs = generateTestCerts();
  server = await startZooKeeper({ tls: { serverKeyAndCert: certs.serverKeyAndCert, ca: certs.ca } });
});

afterAll(async () => {
  await server?.stop();
  certs?.cleanup();
});

async function attempt(host: string, tls: ZkTlsOptions | undefined, timeoutMs = 1500): Promise<ZkClient> {
  const client = new ZkClient({ hosts: `${host}:${server.securePort}`, tls, sessionTimeout: 4000, spinDelay: 50 });
  try {
    await client.connect(timeoutMs);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

describe('mutual TLS', () => {
  test('a client with the client certificate connects to the secure port and works', async () => {
    const zk = await attempt('127.0.0.1', { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca }, 10000);
    try {
      expect(await zk.create('/tls-check', Buffer.from('over tls'))).toBe('/tls-check');
      expect((await zk.get('/tls-check')).data?.toString()).toBe('over tls');
      expect(await zk.create('/tls-seq/', Buffer.alloc(0), { sequential: true, makeParents: true })).toMatch(/^\/tls-seq\/\d{10}$/);
    } finally {
      await zk.close();
    }
  });

  test('PEM contents work as well as file paths; a DNS name is checked against the DNS SAN', async () => {
    const fs = await import('node:fs');
    const zk = await attempt('localhost', {
      cert: fs.readFileSync(certs.clientCert, 'utf8'),
      key: fs.readFileSync(certs.clientKey),
      ca: fs.readFileSync(certs.ca, 'utf8'),
    }, 10000);
    try {
      expect(await zk.exists('/tls-check')).not.toBeNull();
    } finally {
      await zk.close();
    }
  });

  test('a client without a client certificate is refused', async () => {
    await expect(attempt('127.0.0.1', { ca: certs.ca })).rejects.toThrow(/no connection .*(bad certificate|certificate required|alert)/i);
  });

  test('a server certificate from another CA is rejected by the client', async () => {
    await expect(attempt('127.0.0.1', { cert: certs.clientCert, key: certs.clientKey, ca: certs.otherCa })).rejects.toThrow(
      /unable to verify/,
    );
  });

  test('a server address not in the certificate SAN is rejected by the client', async () => {
    // The secure port listens on all addresses; 127.0.0.2 reaches it but is not in the SAN.
    await expect(attempt('127.0.0.2', { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca })).rejects.toThrow(
      /IP: 127\.0\.0\.2 is not in the cert's list/,
    );
  });

  test('a plain client cannot talk to the secure port', async () => {
    await expect(attempt('127.0.0.1', undefined)).rejects.toThrow(/no connection/);
  });
});
