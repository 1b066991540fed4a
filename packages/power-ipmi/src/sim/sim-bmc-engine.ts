import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '@hafence/core';
import { ReplayWindow } from '../transport/replay-window.js';
import {
  AuthType,
  ByteReader,
  MalformedPacketError,
  PayloadType,
  decodeAsf,
  decodeIpmiMessage,
  decodeOpenSessionRequest,
  decodeRakp1,
  decodeRakp34,
  decodeSessionPacket,
  deriveSessionKeys,
  encodeAsfPong,
  encodeIpmiMessage,
  encodeOpenSessionResponse,
  encodeRakp2,
  encodeRakp34,
  encodeV15Packet,
  encodeV20Packet,
  ipmiResponse,
  isAsfDatagram,
  passwordKey,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  sameCode,
  suiteByAlgorithms,
  AsfType,
  type SessionPacket,
} from '../protocol/index.js';
import { answerCommand } from './sim-commands.js';
import type { SimChassis } from './sim-chassis.js';
import type { SimSession } from './sim-session.js';
import type { SimUser } from './sim-users.js';

/** Protocol settings of the simulated BMC. */
export interface SimBmcEngineOptions {
  readonly users: readonly SimUser[];
  /** Cipher suites accepted at Open Session (default 3 and 17). */
  readonly cipherSuites?: readonly number[];
  /** Session slots (default 63, like ipmi_sim). */
  readonly maxSessions?: number;
  /** Idle sessions expire after this (default 60 s). */
  readonly sessionTimeoutMs?: number;
  readonly clock?: Clock;
}

/**
 * The protocol core of {@link SimBmc}, without sockets: one datagram in, zero or more
 * replies out. Junk is rejected with a typed {@link MalformedPacketError}.
 */
/** How long a repeated command (same rqSeq and bytes) counts as a retransmission of the last one. */
const DUPLICATE_WINDOW_MS = 5_000;

export class SimBmcEngine {
  /** Session slots by the BMC's session ID. */
  readonly sessions = new Map<number, SimSession>();
  /** When set, RAKP 2 is computed with this password instead of the user's (a BMC that does not know the password). */
  wrongKey?: string;
  /** When set, every session is forgotten after each answered in-session chassis command. */
  dropAfterChassisCommand = false;
  readonly #suites: ReadonlySet<number>;
  readonly #clock: Clock;
  readonly #guid = randomBytes(16);

  /** Creates the engine for `chassis`. */
  constructor(
    readonly chassis: SimChassis,
    readonly options: SimBmcEngineOptions,
  ) {
    this.#suites = new Set(options.cipherSuites ?? [3, 17]);
    this.#clock = options.clock ?? systemClock;
  }

  /** Handles one datagram; returns the replies to send back. */
  handle(datagram: Buffer): Buffer[] {
    if (isAsfDatagram(datagram)) {
      const ping = decodeAsf(new ByteReader(datagram, 4));
      return ping.type === AsfType.PING ? [encodeAsfPong(ping.tag)] : [];
    }
    this.#expire();
    const pkt = decodeSessionPacket(datagram, (id) => {
      const s = this.sessions.get(id);
      return s?.state === 'active' ? s.keys : undefined;
    });
    if (pkt.authType === AuthType.NONE) return [encodeV15Packet(this.#sessionless(pkt.payload))];
    switch (pkt.payloadType) {
      case PayloadType.IPMI:
        return this.#ipmi(pkt);
      case PayloadType.OPEN_SESSION_REQUEST:
        return [this.#raw(PayloadType.OPEN_SESSION_RESPONSE, this.#open(pkt.payload))];
      case PayloadType.RAKP1:
        return [this.#raw(PayloadType.RAKP2, this.#replayed(pkt.payload, 4) ?? this.#rakp1(pkt.payload))];
      case PayloadType.RAKP3:
        return [this.#raw(PayloadType.RAKP4, this.#replayed(pkt.payload, 4) ?? this.#rakp3(pkt.payload))];
      default:
        throw new MalformedPacketError(`unexpected payload type 0x${pkt.payloadType.toString(16)}`);
    }
  }

  /** Forgets every session at once, as a rebooted or misbehaving BMC does. */
  dropSessions(): void {
    this.sessions.clear();
  }

  /** A retransmitted RAKP 1/3 (its answer was lost) gets the same answer again, like a real BMC. */
  #replayed(payload: Buffer, sidOffset: number): Buffer | undefined {
    if (payload.length < sidOffset + 4) return undefined;
    const s = this.sessions.get(payload.readUInt32LE(sidOffset));
    return s?.lastRakp && s.lastRakp.request.equals(payload) ? s.lastRakp.reply : undefined;
  }

  #remember(s: SimSession, request: Buffer, reply: Buffer): Buffer {
    s.lastRakp = { request: Buffer.from(request), reply };
    return reply;
  }

  #raw(payloadType: number, payload: Buffer): Buffer {
    return encodeV20Packet({ payloadType, sessionId: 0, seq: 0, payload });
  }

  #sessionless(payload: Buffer): Buffer {
    const msg = decodeIpmiMessage(payload);
    const r = answerCommand(msg, undefined, this.chassis, [...this.#suites]);
    return encodeIpmiMessage(ipmiResponse(msg, r.cc, r.data));
  }

  #ipmi(pkt: SessionPacket): Buffer[] {
    if (pkt.sessionId === 0) {
      return [
        encodeV20Packet({
          payloadType: PayloadType.IPMI,
          sessionId: 0,
          seq: 0,
          payload: this.#sessionless(pkt.payload),
        }),
      ];
    }
    const s = this.sessions.get(pkt.sessionId);
    if (!s || s.state !== 'active' || !s.keys) throw new MalformedPacketError('unknown session');
    if (!!s.suite.integrityHash !== pkt.authenticated)
      throw new MalformedPacketError('session packet without integrity');
    if (!s.window.accept(pkt.seq)) throw new MalformedPacketError('replayed session sequence number');
    s.lastUsed = this.#clock.now();
    const msg = decodeIpmiMessage(pkt.payload);
    const last = s.lastCommand;
    const duplicate =
      last !== undefined && last.request.equals(pkt.payload) && s.lastUsed - last.at < DUPLICATE_WINDOW_MS;
    const r = duplicate ? last : answerCommand(msg, s, this.chassis, [...this.#suites]);
    if (!duplicate) s.lastCommand = { request: Buffer.from(pkt.payload), cc: r.cc, data: r.data, at: s.lastUsed };
    s.outSeq = (s.outSeq + 1) >>> 0 || 1;
    const reply = encodeV20Packet(
      {
        payloadType: PayloadType.IPMI,
        sessionId: s.consoleSessionId,
        seq: s.outSeq,
        payload: encodeIpmiMessage(ipmiResponse(msg, r.cc, r.data)),
      },
      s.keys,
    );
    if (!duplicate && 'closeSession' in r && r.closeSession !== undefined) this.sessions.delete(r.closeSession);
    if (!duplicate && this.dropAfterChassisCommand && msg.netFn === 0x00) this.dropSessions();
    return [reply];
  }

  #open(payload: Buffer): Buffer {
    const req = decodeOpenSessionRequest(payload);
    const fail = (status: number) => encodeOpenSessionResponse({ ...req, status, bmcSessionId: 0, privilege: 0 });
    const suite = suiteByAlgorithms(req.auth, req.integrity, req.confidentiality);
    if (!suite || !this.#suites.has(suite.id)) return fail(0x11);
    if (this.sessions.size >= (this.options.maxSessions ?? 63)) return fail(0x01);
    const privilege = req.privilege & 0x0f || 4;
    if (privilege > 5) return fail(0x09);
    let id = 0;
    while (id === 0 || this.sessions.has(id)) id = randomBytes(4).readUInt32LE();
    this.sessions.set(id, {
      bmcSessionId: id,
      consoleSessionId: req.consoleSessionId,
      suite,
      maxPrivilege: privilege,
      state: 'opened',
      privilege: 2,
      outSeq: 0,
      window: new ReplayWindow(),
      lastUsed: this.#clock.now(),
    });
    return encodeOpenSessionResponse({ ...req, status: 0, privilege, bmcSessionId: id });
  }

  #rakp1(payload: Buffer): Buffer {
    const m = decodeRakp1(payload);
    const s = this.sessions.get(m.bmcSessionId);
    const fail = (status: number, consoleSessionId = 0) =>
      encodeRakp2({
        tag: m.tag,
        status,
        consoleSessionId,
        bmcRandom: Buffer.alloc(0),
        bmcGuid: Buffer.alloc(0),
        authCode: Buffer.alloc(0),
      });
    if (!s || s.state !== 'opened') return fail(0x02);
    const name = m.username.toString('utf8');
    const user = this.options.users.find((u) => u.name === name);
    if (!user) {
      this.sessions.delete(s.bmcSessionId);
      return fail(0x0d, s.consoleSessionId);
    }
    const role = m.role & 0x0f || Math.min(user.privilege, s.maxPrivilege);
    if (role > user.privilege || role > s.maxPrivilege) {
      this.sessions.delete(s.bmcSessionId);
      return fail(0x0a, s.consoleSessionId);
    }
    s.user = user;
    s.rakp = {
      suite: s.suite,
      consoleSessionId: s.consoleSessionId,
      bmcSessionId: s.bmcSessionId,
      consoleRandom: m.consoleRandom,
      bmcRandom: randomBytes(16),
      bmcGuid: this.#guid,
      role: m.role,
      username: m.username,
    };
    s.state = 'rakp2-sent';
    const key = passwordKey(this.wrongKey ?? user.password);
    return this.#remember(
      s,
      payload,
      encodeRakp2({
        tag: m.tag,
        status: 0,
        consoleSessionId: s.consoleSessionId,
        bmcRandom: s.rakp.bmcRandom,
        bmcGuid: this.#guid,
        authCode: rakp2AuthCode(s.rakp, key),
      }),
    );
  }

  #rakp3(payload: Buffer): Buffer {
    const m = decodeRakp34(payload);
    const s = this.sessions.get(m.sessionId);
    if (!s || s.state !== 'rakp2-sent' || !s.rakp || !s.user)
      return encodeRakp34({ tag: m.tag, status: 0x02, sessionId: 0, code: Buffer.alloc(0) });
    const kuid = passwordKey(s.user.password);
    if (m.status !== 0 || !sameCode(m.code, rakp3AuthCode(s.rakp, kuid))) {
      this.sessions.delete(s.bmcSessionId);
      return encodeRakp34({
        tag: m.tag,
        status: m.status || 0x0f,
        sessionId: s.consoleSessionId,
        code: Buffer.alloc(0),
      });
    }
    const keys = deriveSessionKeys(s.suite, kuid, s.rakp.consoleRandom, s.rakp.bmcRandom, s.rakp.role, s.rakp.username);
    s.keys = { suite: s.suite, keys };
    s.state = 'active';
    s.privilege = Math.min(s.rakp.role & 0x0f || s.user.privilege, s.user.privilege, s.maxPrivilege);
    return this.#remember(
      s,
      payload,
      encodeRakp34({ tag: m.tag, status: 0, sessionId: s.consoleSessionId, code: rakp4Icv(s.rakp, keys.sik) }),
    );
  }

  #expire(): void {
    const limit = this.#clock.now() - (this.options.sessionTimeoutMs ?? 60_000);
    for (const [id, s] of this.sessions) if (s.lastUsed < limit) this.sessions.delete(id);
  }
}
