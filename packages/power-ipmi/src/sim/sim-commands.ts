import {
  CIPHER_SUITES,
  Cmd,
  NetFn,
  encodeChannelAuthCapabilities,
  encodeChassisStatus,
  encodeDeviceId,
  type IpmiMessage,
} from '../protocol/index.js';
import type { SimChassis } from './sim-chassis.js';
import type { SimSession } from './sim-session.js';

/** A command's completion code and response data. */
export interface SimReply {
  readonly cc: number;
  readonly data?: Buffer;
  /** The session ends after this reply is sent (Close Session). */
  readonly closeSession?: number;
}

const USER = 2;
const OPERATOR = 3;

function need(session: SimSession | undefined, level: number): SimReply | undefined {
  if (!session) return { cc: 0xd4 };
  return session.privilege >= level ? undefined : { cc: 0xd4 };
}

function setPrivilege(session: SimSession | undefined, data: Buffer): SimReply {
  if (!session) return { cc: 0xd4 };
  if (data.length < 1) return { cc: 0xc7 };
  const want = data.readUInt8(0) & 0x0f;
  if (want === 0) return { cc: 0, data: Buffer.from([session.privilege]) };
  if (want > session.maxPrivilege || want < 1 || want > 5) return { cc: 0x81 };
  session.privilege = want;
  return { cc: 0, data: Buffer.from([want]) };
}

function closeSession(session: SimSession | undefined, data: Buffer): SimReply {
  if (!session) return { cc: 0xd4 };
  if (data.length < 4) return { cc: 0xc7 };
  const id = data.readUInt32LE(0);
  return id === session.bmcSessionId ? { cc: 0, closeSession: id } : { cc: 0x87 };
}

/**
 * Get Channel Cipher Suites (IPMI 2.0 §22.15): the records of `suites`, 16 bytes per
 * list index, so clients that do not name a suite (`ipmitool` without `-C`) can choose.
 */
function cipherSuites(data: Buffer, suites: readonly number[]): SimReply {
  if (data.length < 3) return { cc: 0xc7 };
  const records = Buffer.from(
    suites.flatMap((id) => {
      const s = CIPHER_SUITES.get(id);
      return s ? [0xc0, id, s.auth, 0x40 | s.integrity, 0x80 | s.confidentiality] : [];
    }),
  );
  const index = data.readUInt8(2) & 0x3f;
  return { cc: 0, data: Buffer.concat([Buffer.from([1]), records.subarray(index * 16, index * 16 + 16)]) };
}

function app(msg: IpmiMessage, session: SimSession | undefined, suites: readonly number[]): SimReply {
  switch (msg.cmd) {
    case Cmd.GET_DEVICE_ID:
      return { cc: 0, data: encodeDeviceId({ deviceId: 0x20, manufacturerId: 0xfce5, productId: 0x0001 }) };
    case Cmd.GET_CHANNEL_AUTH_CAPABILITIES:
      return msg.data.length < 2 ? { cc: 0xc7 } : { cc: 0, data: encodeChannelAuthCapabilities(1) };
    case Cmd.GET_CHANNEL_CIPHER_SUITES:
      return cipherSuites(msg.data, suites);
    case Cmd.SET_SESSION_PRIVILEGE:
      return setPrivilege(session, msg.data);
    case Cmd.CLOSE_SESSION:
      return closeSession(session, msg.data);
    default:
      return { cc: 0xc1 };
  }
}

function chassis(msg: IpmiMessage, session: SimSession | undefined, box: SimChassis): SimReply {
  switch (msg.cmd) {
    case Cmd.GET_CHASSIS_STATUS:
      return (
        need(session, USER) ?? {
          cc: 0,
          data: encodeChassisStatus({
            powerOn: box.power === 'ON',
            powerFault: false,
            identifyActive: box.identifySeconds > 0,
          }),
        }
      );
    case Cmd.CHASSIS_CONTROL:
      return (
        need(session, OPERATOR) ??
        (msg.data.length < 1 ? { cc: 0xc7 } : { cc: box.control(msg.data.readUInt8(0) & 0x0f) })
      );
    case Cmd.CHASSIS_IDENTIFY: {
      const denied = need(session, OPERATOR);
      if (denied) return denied;
      box.identify(
        msg.data.length >= 2 && msg.data.readUInt8(1) & 1 ? 255 : msg.data.length >= 1 ? msg.data.readUInt8(0) : 15,
      );
      return { cc: 0 };
    }
    default:
      return { cc: 0xc1 };
  }
}

/**
 * Answers one IPMI request of the simulated BMC. Sessionless callers may only ask
 * Get Channel Authentication Capabilities, Get Channel Cipher Suites and Get Device ID.
 */
export function answerCommand(
  msg: IpmiMessage,
  session: SimSession | undefined,
  box: SimChassis,
  suites: readonly number[] = [3, 17],
): SimReply {
  const open =
    msg.cmd === Cmd.GET_CHANNEL_AUTH_CAPABILITIES ||
    msg.cmd === Cmd.GET_DEVICE_ID ||
    msg.cmd === Cmd.GET_CHANNEL_CIPHER_SUITES;
  if (!session && !(msg.netFn === NetFn.APP && open)) return { cc: 0xd4 };
  if (msg.netFn === NetFn.APP) return app(msg, session, suites);
  if (msg.netFn === NetFn.CHASSIS) return chassis(msg, session, box);
  return { cc: 0xc1 };
}
