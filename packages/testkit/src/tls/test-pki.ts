import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts and file paths of a throw-away test PKI (made with the `openssl` CLI). */
export interface TestPki {
  readonly dir: string;
  /** The CA that signed `server` and `client`. */
  readonly ca: string;
  /** Another CA, that signed nothing here. */
  readonly otherCa: string;
  /** Agent certificate: SAN IP:127.0.0.1, serverAuth + clientAuth. */
  readonly server: { cert: string; key: string };
  /** Client certificate (clientAuth) of a management server. */
  readonly client: { cert: string; key: string };
  /** Where each PEM lives (keys mode 0600). */
  readonly files: Record<'ca' | 'otherCa' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>;
  /** Removes the folder. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function signed(dir: string, name: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    String(Math.floor(Math.random() * 1e9)),
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  ]);
  chmodSync(join(dir, `${name}.key`), 0o600);
}

/** Makes a CA, a second unrelated CA, an agent certificate for 127.0.0.1 and a client certificate, in a temp folder. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hafence-pki-'));
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signed(dir, 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  signed(dir, 'client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    otherCa: read('other-ca.pem'),
    server: { cert: read('server.pem'), key: read('server.key') },
    client: { cert: read('client.pem'), key: read('client.key') },
    files: {
      ca: join(dir, 'ca.pem'),
      otherCa: join(dir, 'other-ca.pem'),
      serverCert: join(dir, 'server.pem'),
      serverKey: join(dir, 'server.key'),
      clientCert: join(dir, 'client.pem'),
      clientKey: join(dir, 'client.key'),
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
