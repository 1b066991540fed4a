import type { ByteReader } from './byte-reader.js';
import { MalformedPacketError } from './packet-error.js';

/** RMCP message classes (DMTF ASF 2.0 §3.2.2.1). */
export const RmcpClass = { ASF: 0x06, IPMI: 0x07 } as const;

/** The ASF IANA enterprise number (4542), big-endian in ASF messages. */
export const ASF_IANA = 0x000011be;

/** ASF message types we use. */
export const AsfType = { PING: 0x80, PONG: 0x40 } as const;

/** Length of the RMCP header that starts every datagram. */
export const RMCP_HEADER_LENGTH = 4;

/** Builds the 4-byte RMCP header: version 6, reserved, sequence 0xff (no ACK), class. */
export function rmcpHeader(cls: number): Buffer {
  return Buffer.from([0x06, 0x00, 0xff, cls]);
}

/** Reads an RMCP header and returns its message class (ASF or IPMI). */
export function readRmcpHeader(r: ByteReader): number {
  if (r.u8('rmcp version') !== 0x06) throw new MalformedPacketError('rmcp version');
  r.u8('rmcp reserved');
  r.u8('rmcp sequence');
  const cls = r.u8('rmcp class') & 0x7f;
  if (cls !== RmcpClass.ASF && cls !== RmcpClass.IPMI) throw new MalformedPacketError('rmcp class');
  return cls;
}

/** An ASF presence ping or pong. */
export interface AsfMessage {
  readonly type: number;
  readonly tag: number;
  /** Pong only: bit 7 of "supported entities" says IPMI is supported. */
  readonly ipmiSupported?: boolean;
}

/** Encodes an ASF presence ping with message tag `tag`. */
export function encodeAsfPing(tag: number): Buffer {
  const b = Buffer.alloc(12);
  rmcpHeader(RmcpClass.ASF).copy(b, 0);
  b.writeUInt32BE(ASF_IANA, 4);
  b[8] = AsfType.PING;
  b[9] = tag & 0xff;
  return b;
}

/** Encodes an ASF presence pong answering tag `tag`, announcing IPMI support. */
export function encodeAsfPong(tag: number): Buffer {
  const b = Buffer.alloc(28);
  rmcpHeader(RmcpClass.ASF).copy(b, 0);
  b.writeUInt32BE(ASF_IANA, 4);
  b[8] = AsfType.PONG;
  b[9] = tag & 0xff;
  b[11] = 16;
  b.writeUInt32BE(ASF_IANA, 12);
  b[20] = 0x81; // IPMI supported, ASF 1.0
  return b;
}

/** Decodes the ASF part of a datagram (after its RMCP header). */
export function decodeAsf(r: ByteReader): AsfMessage {
  if (r.u32be('asf iana') !== ASF_IANA) throw new MalformedPacketError('asf iana');
  const type = r.u8('asf type');
  const tag = r.u8('asf tag');
  r.u8('asf reserved');
  const len = r.u8('asf length');
  const data = r.bytes(len, 'asf data');
  if (type === AsfType.PONG) {
    if (len < 9) throw new MalformedPacketError('asf pong length');
    return { type, tag, ipmiSupported: (data.readUInt8(8) & 0x80) !== 0 };
  }
  if (type !== AsfType.PING) throw new MalformedPacketError('asf type');
  return { type, tag };
}
