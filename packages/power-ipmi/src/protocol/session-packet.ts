import { ByteReader } from './byte-reader.js';
import { MalformedPacketError } from './packet-error.js';
import { RmcpClass, readRmcpHeader, rmcpHeader } from './rmcp.js';
import { decryptPayload, encryptPayload, integrityCode, sameCode, type PacketKeys } from './session-crypto.js';

/** Session header "authentication type" values. */
export const AuthType = { NONE: 0x00, RMCP_PLUS: 0x06 } as const;

/** RMCP+ payload types (IPMI 2.0 §13.27.3). */
export const PayloadType = {
  IPMI: 0x00,
  OPEN_SESSION_REQUEST: 0x10,
  OPEN_SESSION_RESPONSE: 0x11,
  RAKP1: 0x12,
  RAKP2: 0x13,
  RAKP3: 0x14,
  RAKP4: 0x15,
} as const;

/** One IPMI-class datagram after its session wrapper was removed. */
export interface SessionPacket {
  /** `AuthType.NONE` for an IPMI 1.5 packet, `AuthType.RMCP_PLUS` for 2.0. */
  readonly authType: number;
  readonly payloadType: number;
  readonly sessionId: number;
  readonly seq: number;
  readonly authenticated: boolean;
  readonly encrypted: boolean;
  /** Plaintext payload. */
  readonly payload: Buffer;
}

/** What to send in an RMCP+ packet. */
export interface OutboundPacket {
  readonly payloadType: number;
  readonly sessionId: number;
  readonly seq: number;
  readonly payload: Buffer;
}

/** Encodes an IPMI 1.5 packet without authentication (only pre-session commands). */
export function encodeV15Packet(payload: Buffer): Buffer {
  const head = Buffer.alloc(4 + 10);
  rmcpHeader(RmcpClass.IPMI).copy(head, 0);
  head[4] = AuthType.NONE;
  head[13] = payload.length;
  return Buffer.concat([head, payload]);
}

/**
 * Encodes an RMCP+ packet. With `keys` whose suite has integrity and/or
 * confidentiality, the payload is encrypted and the trailer (pad, pad length, next
 * header, AuthCode over everything from the auth type on) appended.
 */
export function encodeV20Packet(p: OutboundPacket, keys?: PacketKeys): Buffer {
  const encrypt = !!keys && keys.suite.encrypted;
  const authenticate = !!keys && !!keys.suite.integrityHash;
  const body = encrypt ? encryptPayload(keys!.keys.k2, p.payload) : p.payload;
  const head = Buffer.alloc(4 + 12);
  rmcpHeader(RmcpClass.IPMI).copy(head, 0);
  head[4] = AuthType.RMCP_PLUS;
  head[5] = (p.payloadType & 0x3f) | (authenticate ? 0x40 : 0) | (encrypt ? 0x80 : 0);
  head.writeUInt32LE(p.sessionId >>> 0, 6);
  head.writeUInt32LE(p.seq >>> 0, 10);
  head.writeUInt16LE(body.length, 14);
  if (!authenticate) return Buffer.concat([head, body]);
  const pad = (4 - ((12 + body.length + 2) % 4)) % 4;
  const trailer = Buffer.alloc(pad + 2, 0xff);
  trailer[pad] = pad;
  trailer[pad + 1] = 0x07;
  const signed = Buffer.concat([head, body, trailer]);
  return Buffer.concat([signed, integrityCode(keys!, signed.subarray(4))]);
}

/** Looks up the keys of an RMCP+ session by the session ID found in a packet. */
export type KeyLookup = (sessionId: number) => PacketKeys | undefined;

function decodeV15(r: ByteReader): SessionPacket {
  r.u32le('v1.5 sequence');
  const sessionId = r.u32le('v1.5 session id');
  if (sessionId !== 0) throw new MalformedPacketError('IPMI 1.5 sessions are not supported');
  const len = r.u8('v1.5 length');
  const payload = Buffer.from(r.bytes(len, 'v1.5 payload'));
  return {
    authType: AuthType.NONE,
    payloadType: PayloadType.IPMI,
    sessionId,
    seq: 0,
    authenticated: false,
    encrypted: false,
    payload,
  };
}

function decodeV20(buf: Buffer, r: ByteReader, lookup: KeyLookup): SessionPacket {
  const typeByte = r.u8('payload type');
  const payloadType = typeByte & 0x3f;
  if (payloadType === 0x02) throw new MalformedPacketError('OEM payloads are not supported');
  const encrypted = (typeByte & 0x80) !== 0;
  const authenticated = (typeByte & 0x40) !== 0;
  const sessionId = r.u32le('session id');
  const seq = r.u32le('session sequence');
  const len = r.u16le('payload length');
  let payload = r.bytes(len, 'payload');
  if (!encrypted && !authenticated) {
    return {
      authType: AuthType.RMCP_PLUS,
      payloadType,
      sessionId,
      seq,
      authenticated,
      encrypted,
      payload: Buffer.from(payload),
    };
  }
  const keys = sessionId === 0 ? undefined : lookup(sessionId);
  if (!keys) throw new MalformedPacketError('protected packet for an unknown session');
  if (authenticated !== !!keys.suite.integrityHash || encrypted !== keys.suite.encrypted) {
    throw new MalformedPacketError('packet protection does not match the cipher suite');
  }
  if (authenticated) verifyTrailer(buf, r, keys);
  if (encrypted) payload = decryptPayload(keys.keys.k2, payload);
  return {
    authType: AuthType.RMCP_PLUS,
    payloadType,
    sessionId,
    seq,
    authenticated,
    encrypted,
    payload: Buffer.from(payload),
  };
}

function verifyTrailer(buf: Buffer, r: ByteReader, keys: PacketKeys): void {
  // Trust the trailer's own pad length rather than our alignment rule: some BMCs pad differently.
  const pad = r.remaining - 2 - keys.suite.integrityLength;
  if (pad < 0 || pad > 3) throw new MalformedPacketError('integrity trailer length');
  r.bytes(pad, 'integrity pad');
  if (r.u8('pad length') !== pad) throw new MalformedPacketError('integrity pad length');
  if (r.u8('next header') !== 0x07) throw new MalformedPacketError('next header');
  const signedEnd = r.pos;
  const code = r.bytes(keys.suite.integrityLength, 'auth code');
  if (r.remaining !== 0) throw new MalformedPacketError('bytes after auth code');
  if (!sameCode(code, integrityCode(keys, buf.subarray(4, signedEnd))))
    throw new MalformedPacketError('integrity check');
}

/** Whether a datagram is RMCP class ASF (a presence ping or pong). */
export function isAsfDatagram(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt8(0) === 0x06 && (buf.readUInt8(3) & 0x7f) === RmcpClass.ASF;
}

/**
 * Decodes an IPMI-class datagram (IPMI 1.5 without auth, or RMCP+), verifying the
 * integrity code and decrypting with the session's keys from `lookup`.
 */
export function decodeSessionPacket(buf: Buffer, lookup: KeyLookup = () => undefined): SessionPacket {
  const r = new ByteReader(buf);
  if (readRmcpHeader(r) !== RmcpClass.IPMI) throw new MalformedPacketError('not an IPMI datagram');
  const authType = r.u8('auth type');
  if (authType === AuthType.NONE) return decodeV15(r);
  if (authType === AuthType.RMCP_PLUS) return decodeV20(buf, r, lookup);
  throw new MalformedPacketError('IPMI 1.5 authentication types are refused');
}
