import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CipherSuite } from './cipher-suites.js';
import { MalformedPacketError } from './packet-error.js';

/** Keys of an active RMCP+ session (IPMI 2.0 §13.31–13.32). */
export interface SessionKeys {
  readonly sik: Buffer;
  readonly k1: Buffer;
  readonly k2: Buffer;
}

/** The key material a packet codec needs for one session. */
export interface PacketKeys {
  readonly suite: CipherSuite;
  readonly keys: SessionKeys;
}

/** HMAC of the concatenated `parts` with `key`. */
export function hmac(hash: 'sha1' | 'sha256', key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac(hash, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time comparison of two codes of possibly different length. */
export function sameCode(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A user password as the 20-byte key Kuid (zero padded, IPMI 2.0 §13.31). */
export function passwordKey(password: string): Buffer {
  const raw = Buffer.from(password, 'utf8');
  if (raw.length > 20) throw new RangeError('IPMI 2.0 passwords are at most 20 bytes');
  const key = Buffer.alloc(20);
  raw.copy(key);
  return key;
}

/** Derives SIK from Kg (or Kuid) and the RAKP exchange, then K1 and K2 from SIK. */
export function deriveSessionKeys(
  suite: CipherSuite,
  kg: Buffer,
  rm: Buffer,
  rc: Buffer,
  role: number,
  username: Buffer,
): SessionKeys {
  if (!suite.authHash) return { sik: Buffer.alloc(0), k1: Buffer.alloc(0), k2: Buffer.alloc(0) };
  const sik = hmac(suite.authHash, kg, rm, rc, Buffer.from([role, username.length]), username);
  // The constants are 20 bytes for every hash: the spec defines them before SHA-256
  // existed, and ipmitool, FreeIPMI and BMC firmware all keep 20 for suite 17 too.
  const n = 20;
  return { sik, k1: hmac(suite.authHash, sik, Buffer.alloc(n, 1)), k2: hmac(suite.authHash, sik, Buffer.alloc(n, 2)) };
}

/** The per-packet AuthCode over `data` (HMAC-SHA1-96 or HMAC-SHA256-128). */
export function integrityCode(p: PacketKeys, data: Buffer): Buffer {
  if (!p.suite.integrityHash) return Buffer.alloc(0);
  return hmac(p.suite.integrityHash, p.keys.k1, data).subarray(0, p.suite.integrityLength);
}

const IV_POOL_SIZE = 16 * 256;
let ivPool = Buffer.alloc(0);
let ivOffset = IV_POOL_SIZE;

/** A fresh random 16-byte IV, drawn from a pool refilled in batches (fewer syscalls per packet). */
function nextIv(): Buffer {
  if (ivOffset >= IV_POOL_SIZE) {
    ivPool = randomBytes(IV_POOL_SIZE);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + 16);
  ivOffset += 16;
  return iv;
}

/** AES-CBC-128 encrypts a payload: random IV, then data, pad 1,2,3…, pad length. */
export function encryptPayload(k2: Buffer, data: Buffer, iv: Buffer = nextIv()): Buffer {
  const padLength = (16 - ((data.length + 1) % 16)) % 16;
  const plain = Buffer.alloc(data.length + padLength + 1);
  data.copy(plain);
  for (let i = 0; i < padLength; i++) plain[data.length + i] = i + 1;
  plain[plain.length - 1] = padLength;
  const c = createCipheriv('aes-128-cbc', k2.subarray(0, 16), iv);
  c.setAutoPadding(false);
  return Buffer.concat([iv, c.update(plain), c.final()]);
}

/** Decrypts an AES-CBC-128 payload and strips its confidentiality trailer. */
export function decryptPayload(k2: Buffer, payload: Buffer): Buffer {
  if (payload.length < 32 || payload.length % 16 !== 0) throw new MalformedPacketError('encrypted payload length');
  const d = createDecipheriv('aes-128-cbc', k2.subarray(0, 16), payload.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(payload.subarray(16)), d.final()]);
  const padLength = plain.readUInt8(plain.length - 1);
  if (padLength > 15) throw new MalformedPacketError('confidentiality pad length');
  return plain.subarray(0, plain.length - 1 - padLength);
}
