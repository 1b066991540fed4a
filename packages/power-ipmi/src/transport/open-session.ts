import { randomBytes } from 'node:crypto';
import { AuthError, ProtocolError, type Secret } from '@hafence/core';
import { CIPHER_SUITES, type CipherSuite } from '../protocol/cipher-suites.js';
import {
  Cmd,
  NetFn,
  RMCP_AUTH_STATUS,
  RMCP_STATUS,
  RMCP_SUITE_REFUSED,
  decodeChannelAuthCapabilities,
} from '../protocol/commands.js';
import { ipmiRequest } from '../protocol/ipmi-message.js';
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp34,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp34,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  type RakpContext,
} from '../protocol/rakp.js';
import { deriveSessionKeys, passwordKey, sameCode } from '../protocol/session-crypto.js';
import { AuthType, PayloadType, encodeV20Packet } from '../protocol/session-packet.js';
import type { BmcLink, Budget, Incoming } from './bmc-link.js';
import { IpmiSession, checkCompletion, randomSessionId, sessionlessCall } from './ipmi-session.js';

/** Who logs in, and how. */
export interface LoginOptions {
  readonly username: string;
  readonly password: Secret;
  /** Privilege to request and then set (4 = administrator, 3 = operator). */
  readonly privilege: number;
  /** Cipher suites in order of preference; later ones only when the BMC refuses earlier ones. */
  readonly suites: readonly number[];
}

class SuiteRefused extends Error {}

/** The BMC no longer knows our half-open session (status 0x02): start the login again. */
class LoginRestart extends Error {}
const INVALID_SESSION_ID = 0x02;

/** Decodes a reply payload, or `undefined` when it is malformed: junk is dropped like a lost datagram. */
function tryDecode<T>(decode: (b: Buffer) => T, payload: Buffer | undefined): T | undefined {
  if (!payload) return undefined;
  try {
    return decode(payload);
  } catch {
    return undefined;
  }
}

function rmcpStatus(status: number): string {
  return `RMCP+ status 0x${status.toString(16)} (${RMCP_STATUS[status] ?? 'error'})`;
}

function sessionless(payloadType: number, payload: Buffer) {
  const pkt = encodeV20Packet({ payloadType, sessionId: 0, seq: 0, payload });
  return () => pkt;
}

function rmcpReply(msg: Incoming, payloadType: number): Buffer | undefined {
  if (msg.kind !== 'ipmi' || msg.packet.authType !== AuthType.RMCP_PLUS || msg.packet.payloadType !== payloadType)
    return undefined;
  return msg.packet.sessionId === 0 ? msg.packet.payload : undefined;
}

async function checkCapabilities(link: BmcLink, b: Budget): Promise<void> {
  const reply = await sessionlessCall(
    link,
    ipmiRequest(NetFn.APP, Cmd.GET_CHANNEL_AUTH_CAPABILITIES, 0, Buffer.from([0x8e, 0x04])),
    b,
  );
  const data = checkCompletion(link.to.host, 'Get Channel Authentication Capabilities', reply);
  const caps = tryDecode(decodeChannelAuthCapabilities, data);
  if (!caps) throw new ProtocolError(link.to.host, 'malformed Get Channel Authentication Capabilities reply');
  if (!caps.ipmi20)
    throw new ProtocolError(link.to.host, 'BMC does not support IPMI 2.0 / RMCP+ (IPMI 1.5 is refused)');
}

async function rakp(
  link: BmcLink,
  login: LoginOptions,
  suite: CipherSuite,
  b: Budget,
  now: () => number,
): Promise<IpmiSession> {
  const host = link.to.host;
  const tag = randomBytes(1).readUInt8(0);
  const consoleSessionId = randomSessionId();
  const open = await link.exchange(
    sessionless(
      PayloadType.OPEN_SESSION_REQUEST,
      encodeOpenSessionRequest({
        tag,
        privilege: login.privilege,
        consoleSessionId,
        auth: suite.auth,
        integrity: suite.integrity,
        confidentiality: suite.confidentiality,
      }),
    ),
    (msg) => {
      const r = tryDecode(decodeOpenSessionResponse, rmcpReply(msg, PayloadType.OPEN_SESSION_RESPONSE));
      return r && r.tag === tag && (r.status !== 0 || r.consoleSessionId === consoleSessionId) ? r : undefined;
    },
    b,
  );
  if (open.status !== 0) {
    if (RMCP_SUITE_REFUSED.has(open.status)) throw new SuiteRefused(rmcpStatus(open.status));
    if (RMCP_AUTH_STATUS.has(open.status))
      throw new AuthError(host, 'ipmi', `open session refused: ${rmcpStatus(open.status)}`);
    throw new ProtocolError(host, `open session refused: ${rmcpStatus(open.status)}`);
  }
  if (
    open.auth !== suite.auth ||
    open.integrity !== suite.integrity ||
    open.confidentiality !== suite.confidentiality
  ) {
    // A BMC that answers with other algorithms than asked (pyghmi does) would downgrade us.
    throw new ProtocolError(host, `BMC answered cipher suite ${suite.id} with other algorithms`);
  }
  if (open.bmcSessionId === 0) throw new ProtocolError(host, 'BMC session id 0');
  const username = Buffer.from(login.username, 'utf8');
  const role = (login.privilege & 0x0f) | 0x10; // name-only lookup
  const consoleRandom = randomBytes(16);
  const tag1 = (tag + 1) & 0xff;
  const r2 = await link.exchange(
    sessionless(
      PayloadType.RAKP1,
      encodeRakp1({
        tag: tag1,
        bmcSessionId: open.bmcSessionId,
        consoleRandom,
        role,
        username,
      }),
    ),
    (msg) => {
      const r = tryDecode(decodeRakp2, rmcpReply(msg, PayloadType.RAKP2));
      return r && r.tag === tag1 && (r.status !== 0 || r.consoleSessionId === consoleSessionId) ? r : undefined;
    },
    b,
  );
  if (r2.status === INVALID_SESSION_ID) throw new LoginRestart('RAKP 2: invalid session id');
  if (r2.status !== 0) throw new AuthError(host, 'ipmi', `RAKP 2: ${rmcpStatus(r2.status)}`);
  const ctx: RakpContext = {
    suite,
    consoleSessionId,
    bmcSessionId: open.bmcSessionId,
    consoleRandom,
    bmcRandom: r2.bmcRandom,
    bmcGuid: r2.bmcGuid,
    role,
    username,
  };
  const kuid = passwordKey(login.password.reveal());
  if (!sameCode(r2.authCode, rakp2AuthCode(ctx, kuid))) {
    throw new AuthError(
      host,
      'ipmi',
      "the BMC's RAKP 2 HMAC does not match (wrong password, or a BMC that does not know it)",
    );
  }
  const keys = deriveSessionKeys(suite, kuid, consoleRandom, r2.bmcRandom, role, username);
  const tag3 = (tag + 2) & 0xff;
  const r4 = await link.exchange(
    sessionless(
      PayloadType.RAKP3,
      encodeRakp34({
        tag: tag3,
        status: 0,
        sessionId: open.bmcSessionId,
        code: rakp3AuthCode(ctx, kuid),
      }),
    ),
    (msg) => {
      const r = tryDecode(decodeRakp34, rmcpReply(msg, PayloadType.RAKP4));
      return r && r.tag === tag3 && (r.status !== 0 || r.sessionId === consoleSessionId) ? r : undefined;
    },
    b,
  );
  if (r4.status === INVALID_SESSION_ID) throw new LoginRestart('RAKP 4: invalid session id');
  if (r4.status !== 0) throw new AuthError(host, 'ipmi', `RAKP 4: ${rmcpStatus(r4.status)}`);
  if (!sameCode(r4.code, rakp4Icv(ctx, keys.sik)))
    throw new AuthError(host, 'ipmi', "the BMC's RAKP 4 integrity check value does not match");
  const session = new IpmiSession(
    link,
    { suite, consoleSessionId, bmcSessionId: open.bmcSessionId, keys: { suite, keys } },
    now(),
  );
  const set = await session.call(NetFn.APP, Cmd.SET_SESSION_PRIVILEGE, Buffer.from([login.privilege]), b, now);
  checkCompletion(host, 'Set Session Privilege Level', set);
  return session;
}

/** A lost RAKP answer can leave the BMC a step ahead of us; start over (twice at most). */
async function rakpWithRestarts(
  link: BmcLink,
  login: LoginOptions,
  suite: CipherSuite,
  b: Budget,
  now: () => number,
): Promise<IpmiSession> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rakp(link, login, suite, b, now);
    } catch (err) {
      if (!(err instanceof LoginRestart)) throw err;
      if (attempt >= 2) throw new ProtocolError(link.to.host, `login kept failing: ${err.message}`);
    }
  }
}

/**
 * Logs in to a BMC: Get Channel Authentication Capabilities, Open Session (falling
 * back along `login.suites` only when the BMC refuses the algorithms), RAKP 1–4 with
 * both BMC proofs verified, key derivation, Set Session Privilege Level.
 */
export async function openSession(
  link: BmcLink,
  login: LoginOptions,
  b: Budget,
  now: () => number,
): Promise<IpmiSession> {
  await checkCapabilities(link, b);
  let refused = '';
  for (const id of login.suites) {
    const suite = CIPHER_SUITES.get(id);
    if (!suite) throw new ProtocolError(link.to.host, `unknown cipher suite ${id}`);
    try {
      return await rakpWithRestarts(link, login, suite, b, now);
    } catch (err) {
      if (!(err instanceof SuiteRefused)) throw err;
      refused += `${refused ? '; ' : ''}suite ${id}: ${err.message}`;
    }
  }
  throw new ProtocolError(link.to.host, `no common cipher suite (${refused})`);
}
