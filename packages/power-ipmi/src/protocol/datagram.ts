import { ByteReader } from './byte-reader.js';
import { decodeAsf, type AsfMessage } from './rmcp.js';
import { decodeSessionPacket, isAsfDatagram, type KeyLookup, type SessionPacket } from './session-packet.js';

/** A decoded datagram: an ASF presence message or an IPMI session packet. */
export type Datagram =
  | { readonly kind: 'asf'; readonly asf: AsfMessage }
  | { readonly kind: 'ipmi'; readonly packet: SessionPacket };

/**
 * Decodes any datagram a BMC or console may send: RMCP/ASF or IPMI (1.5 without
 * auth, or RMCP+ with the session keys from `lookup`). Throws only
 * `MalformedPacketError`.
 */
export function decodeDatagram(buf: Buffer, lookup?: KeyLookup): Datagram {
  if (isAsfDatagram(buf)) return { kind: 'asf', asf: decodeAsf(new ByteReader(buf, 4)) };
  return { kind: 'ipmi', packet: decodeSessionPacket(buf, lookup) };
}
