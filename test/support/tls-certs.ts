/**
 * Throw-away TLS material for tests, made with the `openssl` CLI in a temp dir: a CA, a server
 * certificate for 127.0.0.1 (IP SAN) and localhost (DNS SAN), a client certificate, and a second
 * CA that signed nothing we use (to test verification failures).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Paths of the generated files. */
export interface TestCerts {
  dir: string;
  /** CA certificate (PEM). */
  ca: string;
  /** Server certificate (PEM). */
  serverCert: string;
  /** Server private key (PKCS#8 PEM). */
  serverKey: string;
  /** Server key followed by its certificate: the PEM "keystore" ZooKeeper 3.8 reads. */
  serverKeyAndCert: string;
  /** Client certificate (PEM). */
  clientCert: string;
  /** Client private key (PEM). */
  clientKey: string;
  /** A CA that did not sign the server certificate. */
  otherCa: string;
  /** Removes the directory. */
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2',
    '-subj', `/CN=nodepool-ts ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function makeLeaf(dir: string, name: string, cn: string, usage: string): void {
  // IP SAN 127.0.0.1 on both: the client verifies the server against it, and ZooKeeper may
  // verify the client's certificate against its address.
  fs.writeFileSync(
    path.join(dir, `${name}.ext`),
    `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
}

/** Generates the material (≈1 s); see the module comment. */
export function generateTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'server', '127.0.0.1', 'serverAuth,clientAuth');
  makeLeaf(dir, 'client', 'nodepool-ts-client', 'clientAuth');
  const file = (name: string): string => path.join(dir, name);
  fs.writeFileSync(file('server-key-and-cert.pem'), fs.readFileSync(file('server.key'), 'utf8') + fs.readFileSync(file('server.pem'), 'utf8'));
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    serverKeyAndCert: file('server-key-and-cert.pem'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.pem'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
