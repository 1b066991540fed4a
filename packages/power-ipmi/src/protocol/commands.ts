import { ByteReader } from './byte-reader.js';

/** Network functions (requests; responses are `netFn | 1`). */
export const NetFn = { CHASSIS: 0x00, APP: 0x06 } as const;

/** Command codes hafence sends or the simulator answers. */
export const Cmd = {
  GET_DEVICE_ID: 0x01,
  GET_CHANNEL_AUTH_CAPABILITIES: 0x38,
  SET_SESSION_PRIVILEGE: 0x3b,
  CLOSE_SESSION: 0x3c,
  GET_CHANNEL_CIPHER_SUITES: 0x54,
  GET_CHASSIS_STATUS: 0x01,
  CHASSIS_CONTROL: 0x02,
  CHASSIS_IDENTIFY: 0x04,
} as const;

/** Chassis Control data byte for each command (IPMI 2.0 §28.3). */
export const ChassisControl = { down: 0x00, up: 0x01, cycle: 0x02, hardReset: 0x03, softShutdown: 0x05 } as const;

/** Privilege levels. */
export const Privilege = { CALLBACK: 1, USER: 2, OPERATOR: 3, ADMINISTRATOR: 4 } as const;

/** Completion codes with a name worth printing. */
export const COMPLETION_CODES: Readonly<Record<number, string>> = {
  0x00: 'ok',
  0xc0: 'node busy',
  0xc1: 'invalid command',
  0xc3: 'timeout',
  0xc7: 'request data length invalid',
  0xcc: 'invalid data field',
  0xd4: 'insufficient privilege',
  0xd5: 'not supported in present state',
  0xff: 'unspecified error',
};

/** RMCP+ status codes (IPMI 2.0 §13.24) that mean "who are you?" rather than "try again". */
export const RMCP_AUTH_STATUS: ReadonlySet<number> = new Set([0x09, 0x0a, 0x0d, 0x0e, 0x0f]);

/** RMCP+ status codes meaning "I do not do these algorithms" (try the next cipher suite). */
export const RMCP_SUITE_REFUSED: ReadonlySet<number> = new Set([0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11]);

/** RMCP+ status codes with a name. */
export const RMCP_STATUS: Readonly<Record<number, string>> = {
  0x01: 'insufficient resources',
  0x02: 'invalid session id',
  0x03: 'invalid payload type',
  0x04: 'invalid authentication algorithm',
  0x05: 'invalid integrity algorithm',
  0x06: 'no matching authentication payload',
  0x07: 'no matching integrity payload',
  0x08: 'inactive session id',
  0x09: 'invalid role',
  0x0a: 'unauthorized role or privilege',
  0x0b: 'insufficient resources at the requested role',
  0x0c: 'invalid name length',
  0x0d: 'unauthorized name',
  0x0e: 'unauthorized GUID',
  0x0f: 'invalid integrity check value',
  0x10: 'invalid confidentiality algorithm',
  0x11: 'no cipher suite match',
  0x12: 'illegal parameter',
};

/** Get Chassis Status response data (after the completion code). */
export interface ChassisStatus {
  readonly powerOn: boolean;
  readonly powerFault: boolean;
  readonly identifyActive: boolean;
}

/** Decodes Get Chassis Status data (completion code stripped). */
export function decodeChassisStatus(data: Buffer): ChassisStatus {
  const r = new ByteReader(data);
  const power = r.u8('current power state');
  r.u8('last power event');
  const misc = r.u8('misc chassis state');
  return { powerOn: (power & 1) !== 0, powerFault: (power & 0x08) !== 0, identifyActive: ((misc >> 4) & 3) !== 0 };
}

/** Encodes Get Chassis Status data (completion code excluded). */
export function encodeChassisStatus(s: ChassisStatus): Buffer {
  return Buffer.from([(s.powerOn ? 1 : 0) | (s.powerFault ? 0x08 : 0) | 0x60, 0, 0x40 | (s.identifyActive ? 0x20 : 0)]);
}

/** Get Device ID response data. */
export interface DeviceId {
  readonly deviceId: number;
  readonly deviceRevision: number;
  readonly firmware: string;
  readonly ipmiVersion: string;
  readonly manufacturerId: number;
  readonly productId: number;
}

/** Decodes Get Device ID data (completion code stripped). */
export function decodeDeviceId(data: Buffer): DeviceId {
  const r = new ByteReader(data);
  const deviceId = r.u8();
  const deviceRevision = r.u8() & 0x0f;
  const major = r.u8() & 0x7f;
  const minor = r.u8();
  const v = r.u8();
  r.u8('additional support');
  const m = r.bytes(3, 'manufacturer');
  const p = r.bytes(2, 'product');
  return {
    deviceId,
    deviceRevision,
    firmware: `${major}.${minor.toString(16).padStart(2, '0')}`,
    ipmiVersion: `${v & 0x0f}.${v >> 4}`,
    manufacturerId: m.readUIntLE(0, 3) & 0x0fffff,
    productId: p.readUInt16LE(0),
  };
}

/** Encodes Get Device ID data (completion code excluded). */
export function encodeDeviceId(d: { deviceId: number; manufacturerId: number; productId: number }): Buffer {
  const b = Buffer.from([d.deviceId, 0x80, 0x01, 0x00, 0x02, 0x01, 0, 0, 0, 0, 0]);
  b.writeUIntLE(d.manufacturerId & 0xfffff, 6, 3);
  b.writeUInt16LE(d.productId & 0xffff, 9);
  return b;
}

/** The parts of Get Channel Authentication Capabilities we rely on. */
export interface ChannelAuthCapabilities {
  readonly channel: number;
  /** The BMC speaks IPMI 2.0 / RMCP+. */
  readonly ipmi20: boolean;
  /** Anonymous, null-user or non-null user login is enabled. */
  readonly authStatus: number;
}

/** Decodes Get Channel Authentication Capabilities data (completion code stripped). */
export function decodeChannelAuthCapabilities(data: Buffer): ChannelAuthCapabilities {
  const r = new ByteReader(data);
  const channel = r.u8();
  const authTypes = r.u8('auth type support');
  const authStatus = r.u8('auth status');
  const ext = r.u8('extended capabilities');
  return { channel, ipmi20: (authTypes & 0x80) !== 0 && (ext & 0x02) !== 0, authStatus };
}

/** Encodes Get Channel Authentication Capabilities data for an RMCP+-only BMC. */
export function encodeChannelAuthCapabilities(channel: number): Buffer {
  return Buffer.from([channel, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
}
