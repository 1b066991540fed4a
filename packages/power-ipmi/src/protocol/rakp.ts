import { ByteReader } from './byte-reader.js';
import type { CipherSuite } from './cipher-suites.js';
import { MalformedPacketError } from './packet-error.js';
import { hmac } from './session-crypto.js';

/** Open Session Request payload (IPMI 2.0 §13.17). */
export interface OpenSessionRequest {
  readonly tag: number;
  /** Requested maximum privilege (4 = administrator). */
  readonly privilege: number;
  readonly consoleSessionId: number;
  readonly auth: number;
  readonly integrity: number;
  readonly confidentiality: number;
}

/** Open Session Response payload (IPMI 2.0 §13.18); algorithms absent on error. */
export interface OpenSessionResponse {
  readonly tag: number;
  readonly status: number;
  readonly privilege: number;
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly auth: number;
  readonly integrity: number;
  readonly confidentiality: number;
}

/** RAKP Message 1 (console → BMC). */
export interface Rakp1 {
  readonly tag: number;
  readonly bmcSessionId: number;
  readonly consoleRandom: Buffer;
  /** Requested role byte, including the name-only-lookup bit (0x10). */
  readonly role: number;
  readonly username: Buffer;
}

/** RAKP Message 2 (BMC → console). */
export interface Rakp2 {
  readonly tag: number;
  readonly status: number;
  readonly consoleSessionId: number;
  readonly bmcRandom: Buffer;
  readonly bmcGuid: Buffer;
  readonly authCode: Buffer;
}

/** RAKP Message 3 (console → BMC) and RAKP Message 4 (BMC → console) share a layout. */
export interface Rakp34 {
  readonly tag: number;
  readonly status: number;
  /** RAKP 3: the BMC's session ID; RAKP 4: the console's session ID. */
  readonly sessionId: number;
  /** RAKP 3 auth code, or RAKP 4 integrity check value. */
  readonly code: Buffer;
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

function algorithm(type: number, alg: number): Buffer {
  return Buffer.from([type, 0, 0, 8, alg, 0, 0, 0]);
}

function readAlgorithm(r: ByteReader, type: number): number {
  const b = r.bytes(8, 'algorithm payload');
  if (b.readUInt8(0) !== type) throw new MalformedPacketError('algorithm payload type');
  return b.readUInt8(4) & 0x3f;
}

/** Encodes an Open Session Request. */
export function encodeOpenSessionRequest(m: OpenSessionRequest): Buffer {
  return Buffer.concat([
    Buffer.from([m.tag, m.privilege, 0, 0]),
    u32(m.consoleSessionId),
    algorithm(0, m.auth),
    algorithm(1, m.integrity),
    algorithm(2, m.confidentiality),
  ]);
}

/** Decodes an Open Session Request. */
export function decodeOpenSessionRequest(b: Buffer): OpenSessionRequest {
  const r = new ByteReader(b);
  const tag = r.u8();
  const privilege = r.u8();
  r.bytes(2);
  const consoleSessionId = r.u32le('console session id');
  return {
    tag,
    privilege,
    consoleSessionId,
    auth: readAlgorithm(r, 0),
    integrity: readAlgorithm(r, 1),
    confidentiality: readAlgorithm(r, 2),
  };
}

/** Encodes an Open Session Response (algorithms omitted when status ≠ 0). */
export function encodeOpenSessionResponse(m: OpenSessionResponse): Buffer {
  const head = Buffer.concat([Buffer.from([m.tag, m.status, m.privilege, 0]), u32(m.consoleSessionId)]);
  if (m.status !== 0) return head;
  return Buffer.concat([
    head,
    u32(m.bmcSessionId),
    algorithm(0, m.auth),
    algorithm(1, m.integrity),
    algorithm(2, m.confidentiality),
  ]);
}

/** Decodes an Open Session Response. */
export function decodeOpenSessionResponse(b: Buffer): OpenSessionResponse {
  const r = new ByteReader(b);
  const tag = r.u8('tag');
  const status = r.u8('status');
  if (status !== 0)
    return {
      tag,
      status,
      privilege: 0,
      consoleSessionId: 0,
      bmcSessionId: 0,
      auth: 0,
      integrity: 0,
      confidentiality: 0,
    };
  const privilege = r.u8();
  r.u8();
  const consoleSessionId = r.u32le();
  const bmcSessionId = r.u32le();
  return {
    tag,
    status,
    privilege,
    consoleSessionId,
    bmcSessionId,
    auth: readAlgorithm(r, 0),
    integrity: readAlgorithm(r, 1),
    confidentiality: readAlgorithm(r, 2),
  };
}

/** Encodes RAKP Message 1. */
export function encodeRakp1(m: Rakp1): Buffer {
  return Buffer.concat([
    Buffer.from([m.tag, 0, 0, 0]),
    u32(m.bmcSessionId),
    m.consoleRandom,
    Buffer.from([m.role, 0, 0, m.username.length]),
    m.username,
  ]);
}

/** Decodes RAKP Message 1. */
export function decodeRakp1(b: Buffer): Rakp1 {
  const r = new ByteReader(b);
  const tag = r.u8();
  r.bytes(3);
  const bmcSessionId = r.u32le();
  const consoleRandom = Buffer.from(r.bytes(16, 'console random'));
  const role = r.u8();
  r.bytes(2);
  const len = r.u8();
  if (len > 16) throw new MalformedPacketError('user name length');
  return { tag, bmcSessionId, consoleRandom, role, username: Buffer.from(r.bytes(len, 'user name')) };
}

/** Encodes RAKP Message 2. */
export function encodeRakp2(m: Rakp2): Buffer {
  const head = Buffer.concat([Buffer.from([m.tag, m.status, 0, 0]), u32(m.consoleSessionId)]);
  if (m.status !== 0) return head;
  return Buffer.concat([head, m.bmcRandom, m.bmcGuid, m.authCode]);
}

/** Decodes RAKP Message 2. */
export function decodeRakp2(b: Buffer): Rakp2 {
  const r = new ByteReader(b);
  const tag = r.u8();
  const status = r.u8();
  r.bytes(2);
  const consoleSessionId = r.u32le();
  if (status !== 0)
    return {
      tag,
      status,
      consoleSessionId,
      bmcRandom: Buffer.alloc(0),
      bmcGuid: Buffer.alloc(0),
      authCode: Buffer.alloc(0),
    };
  const bmcRandom = Buffer.from(r.bytes(16, 'bmc random'));
  const bmcGuid = Buffer.from(r.bytes(16, 'bmc guid'));
  return { tag, status, consoleSessionId, bmcRandom, bmcGuid, authCode: Buffer.from(r.rest()) };
}

/** Encodes RAKP Message 3 or 4. */
export function encodeRakp34(m: Rakp34): Buffer {
  return Buffer.concat([
    Buffer.from([m.tag, m.status, 0, 0]),
    u32(m.sessionId),
    m.status === 0 ? m.code : Buffer.alloc(0),
  ]);
}

/** Decodes RAKP Message 3 or 4. */
export function decodeRakp34(b: Buffer): Rakp34 {
  const r = new ByteReader(b);
  const tag = r.u8();
  const status = r.u8();
  r.bytes(2);
  return { tag, status, sessionId: r.u32le('session id'), code: Buffer.from(r.rest()) };
}

/** The exchange values both sides feed into the RAKP HMACs. */
export interface RakpContext {
  readonly suite: CipherSuite;
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly consoleRandom: Buffer;
  readonly bmcRandom: Buffer;
  readonly bmcGuid: Buffer;
  readonly role: number;
  readonly username: Buffer;
}

const nameTail = (c: RakpContext) => Buffer.concat([Buffer.from([c.role, c.username.length]), c.username]);

/** RAKP 2 key exchange auth code: HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm). */
export function rakp2AuthCode(c: RakpContext, kuid: Buffer): Buffer {
  if (!c.suite.authHash) return Buffer.alloc(0);
  return hmac(
    c.suite.authHash,
    kuid,
    u32(c.consoleSessionId),
    u32(c.bmcSessionId),
    c.consoleRandom,
    c.bmcRandom,
    c.bmcGuid,
    nameTail(c),
  );
}

/** RAKP 3 key exchange auth code: HMAC_Kuid(Rc, SIDm, ROLEm, ULENGTHm, UNAMEm). */
export function rakp3AuthCode(c: RakpContext, kuid: Buffer): Buffer {
  if (!c.suite.authHash) return Buffer.alloc(0);
  return hmac(c.suite.authHash, kuid, c.bmcRandom, u32(c.consoleSessionId), nameTail(c));
}

/** RAKP 4 integrity check value: HMAC_SIK(Rm, SIDc, GUIDc), truncated. */
export function rakp4Icv(c: RakpContext, sik: Buffer): Buffer {
  if (!c.suite.authHash) return Buffer.alloc(0);
  return hmac(c.suite.authHash, sik, c.consoleRandom, u32(c.bmcSessionId), c.bmcGuid).subarray(
    0,
    c.suite.rakp4IcvLength,
  );
}
