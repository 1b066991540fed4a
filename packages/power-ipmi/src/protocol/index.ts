/**
 * The IPMI 2.0 / RMCP+ codecs of `@hafence/power-ipmi`, for simulators and tools
 * (`@hafence/power-ipmi/protocol`). Pure functions over `Buffer`s, no I/O.
 */
export { MalformedPacketError } from './packet-error.js';
export { ByteReader } from './byte-reader.js';
export {
  RmcpClass,
  AsfType,
  ASF_IANA,
  RMCP_HEADER_LENGTH,
  rmcpHeader,
  readRmcpHeader,
  encodeAsfPing,
  encodeAsfPong,
  decodeAsf,
} from './rmcp.js';
export type { AsfMessage } from './rmcp.js';
export {
  BMC_SLAVE_ADDRESS,
  REMOTE_CONSOLE_SWID,
  checksum,
  encodeIpmiMessage,
  decodeIpmiMessage,
  ipmiRequest,
  ipmiResponse,
} from './ipmi-message.js';
export type { IpmiMessage } from './ipmi-message.js';
export {
  AuthAlgorithm,
  IntegrityAlgorithm,
  ConfidentialityAlgorithm,
  CIPHER_SUITES,
  suiteByAlgorithms,
} from './cipher-suites.js';
export type { CipherSuite } from './cipher-suites.js';
export {
  hmac,
  sameCode,
  passwordKey,
  deriveSessionKeys,
  integrityCode,
  encryptPayload,
  decryptPayload,
} from './session-crypto.js';
export type { SessionKeys, PacketKeys } from './session-crypto.js';
export {
  AuthType,
  PayloadType,
  encodeV15Packet,
  encodeV20Packet,
  decodeSessionPacket,
  isAsfDatagram,
} from './session-packet.js';
export type { SessionPacket, OutboundPacket, KeyLookup } from './session-packet.js';
export { decodeDatagram } from './datagram.js';
export type { Datagram } from './datagram.js';
export {
  encodeOpenSessionRequest,
  decodeOpenSessionRequest,
  encodeOpenSessionResponse,
  decodeOpenSessionResponse,
  encodeRakp1,
  decodeRakp1,
  encodeRakp2,
  decodeRakp2,
  encodeRakp34,
  decodeRakp34,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
} from './rakp.js';
export type { OpenSessionRequest, OpenSessionResponse, Rakp1, Rakp2, Rakp34, RakpContext } from './rakp.js';
export {
  NetFn,
  Cmd,
  ChassisControl,
  Privilege,
  COMPLETION_CODES,
  RMCP_AUTH_STATUS,
  RMCP_SUITE_REFUSED,
  RMCP_STATUS,
  decodeChassisStatus,
  encodeChassisStatus,
  decodeDeviceId,
  encodeDeviceId,
  decodeChannelAuthCapabilities,
  encodeChannelAuthCapabilities,
} from './commands.js';
export type { ChassisStatus, DeviceId, ChannelAuthCapabilities } from './commands.js';
