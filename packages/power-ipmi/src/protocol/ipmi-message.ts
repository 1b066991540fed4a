import { MalformedPacketError } from './packet-error.js';

/** Slave address of the BMC on the IPMB. */
export const BMC_SLAVE_ADDRESS = 0x20;
/** Software ID of a remote console (IPMI 2.0 §5.5). */
export const REMOTE_CONSOLE_SWID = 0x81;

/**
 * One IPMI message as carried in a LAN session payload (IPMI 2.0 §13.8): the
 * responder/requester addresses, network function, 6-bit sequence, command and data.
 * For responses `netFn` is odd and `data[0]` is the completion code.
 */
export interface IpmiMessage {
  readonly targetAddress: number;
  readonly netFn: number;
  readonly targetLun: number;
  readonly sourceAddress: number;
  readonly seq: number;
  readonly sourceLun: number;
  readonly cmd: number;
  readonly data: Buffer;
}

/** Two's-complement checksum of `bytes` (IPMI's 8-bit zero-sum). */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (const byte of bytes.subarray(start, end)) sum = (sum + byte) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** Encodes an IPMI message with both checksums. */
export function encodeIpmiMessage(m: IpmiMessage): Buffer {
  const b = Buffer.alloc(7 + m.data.length);
  b[0] = m.targetAddress;
  b[1] = ((m.netFn & 0x3f) << 2) | (m.targetLun & 3);
  b[2] = checksum(b, 0, 2);
  b[3] = m.sourceAddress;
  b[4] = ((m.seq & 0x3f) << 2) | (m.sourceLun & 3);
  b[5] = m.cmd;
  m.data.copy(b, 6);
  b[b.length - 1] = checksum(b, 3, b.length - 1);
  return b;
}

/** Builds a request from a remote console to the BMC. */
export function ipmiRequest(netFn: number, cmd: number, seq: number, data: Buffer = Buffer.alloc(0)): IpmiMessage {
  return {
    targetAddress: BMC_SLAVE_ADDRESS,
    netFn,
    targetLun: 0,
    sourceAddress: REMOTE_CONSOLE_SWID,
    seq,
    sourceLun: 0,
    cmd,
    data,
  };
}

/** Builds the response to `req` with completion code `cc` and `data`. */
export function ipmiResponse(req: IpmiMessage, cc: number, data: Buffer = Buffer.alloc(0)): IpmiMessage {
  return {
    targetAddress: req.sourceAddress,
    netFn: req.netFn | 1,
    targetLun: req.sourceLun,
    sourceAddress: req.targetAddress,
    seq: req.seq,
    sourceLun: req.targetLun,
    cmd: req.cmd,
    data: Buffer.concat([Buffer.from([cc]), data]),
  };
}

/** Decodes an IPMI message, verifying both checksums. */
export function decodeIpmiMessage(b: Buffer): IpmiMessage {
  if (b.length < 7) throw new MalformedPacketError('ipmi message too short');
  if (checksum(b, 0, 3) !== 0) throw new MalformedPacketError('ipmi header checksum');
  if (checksum(b, 3, b.length) !== 0) throw new MalformedPacketError('ipmi data checksum');
  return {
    targetAddress: b.readUInt8(0),
    netFn: b.readUInt8(1) >> 2,
    targetLun: b.readUInt8(1) & 3,
    sourceAddress: b.readUInt8(3),
    seq: b.readUInt8(4) >> 2,
    sourceLun: b.readUInt8(4) & 3,
    cmd: b.readUInt8(5),
    data: Buffer.from(b.subarray(6, b.length - 1)),
  };
}
