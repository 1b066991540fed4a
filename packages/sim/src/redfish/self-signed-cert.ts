import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** A PEM certificate and its PEM private key. */
export interface CertificatePem {
  /** The certificate (`-----BEGIN CERTIFICATE-----`). */
  readonly certPem: string;
  /** Its PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string;
}

/** Options of {@link generateSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Subject common name (default `hafence-redfish-sim`). */
  readonly commonName?: string;
  /** Subject alternative names: IP addresses or DNS names (default `127.0.0.1`, `::1`, `localhost`). */
  readonly altNames?: readonly string[];
  /** Start of validity, ms since the epoch (the caller passes its clock's now). */
  readonly notBeforeMs: number;
  /** Validity in days (default 30). */
  readonly days?: number;
}

// Minimal DER (X.690) encoding: just what an X.509 v3 certificate needs.
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else if (n < 0x10000) len = Buffer.from([0x82, n >> 8, n & 0xff]);
  else throw new RangeError(`DER value of ${n} bytes is too long for this encoder`);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const ctx = (n: number, body: Buffer): Buffer => tlv(0xa0 + n, body);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));

function integer(b: Buffer): Buffer {
  const body = b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  return tlv(0x02, body);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // 2026-11-30T20:21:49.000Z
  const y = Number(iso.slice(0, 4));
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function subjectAltName(names: readonly string[]): Buffer {
  const general = names.map((n) => (isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii'))));
  return seq(oid('2.5.29.17'), octets(seq(...general)));
}

function extensions(names: readonly string[]): Buffer {
  return ctx(
    3,
    seq(
      seq(oid('2.5.29.19'), bool(true), octets(seq(bool(true)))), // basicConstraints: critical, CA:TRUE
      seq(oid('2.5.29.15'), bool(true), octets(bits(Buffer.from([0x84]), 2))), // keyUsage: digitalSignature, keyCertSign
      seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))), // extendedKeyUsage: serverAuth
      subjectAltName(names),
    ),
  );
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function tbsCertificate(publicKey: KeyObject, options: SelfSignedOptions): Buffer {
  const name = seq(set(seq(oid('2.5.4.3'), utf8(options.commonName ?? 'hafence-redfish-sim'))));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and minimal (DER)
  const notAfter = options.notBeforeMs + (options.days ?? 30) * 86_400_000;
  return seq(
    ctx(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    seq(oid('1.2.840.10045.4.3.2')), // ecdsa-with-SHA256
    name,
    seq(time(options.notBeforeMs - 60_000), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions(options.altNames ?? ['127.0.0.1', '::1', 'localhost']),
  );
}

/**
 * Makes a self-signed ECDSA P-256 certificate (X.509 v3, CA:TRUE so a client can trust it as its own CA, SAN for
 * the loopback addresses) in memory. Node has no X.509 generator; this DER encoder covers exactly one shape of
 * certificate, so the simulator needs neither the `openssl` CLI nor a temporary key file.
 *
 * @example
 * const { certPem, keyPem } = generateSelfSignedCertificate({ notBeforeMs: clock.now() });
 */
export function generateSelfSignedCertificate(options: SelfSignedOptions): CertificatePem {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tbs = tbsCertificate(createPublicKey(privateKey), options);
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, seq(oid('1.2.840.10045.4.3.2')), bits(signature));
  return {
    certPem: pem('CERTIFICATE', cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
