import { randomBytes } from 'node:crypto';
import { AuthError, ProtocolError } from '@hafence/core';
import { Cmd, COMPLETION_CODES, NetFn } from '../protocol/commands.js';
import { decodeIpmiMessage, encodeIpmiMessage, ipmiRequest, type IpmiMessage } from '../protocol/ipmi-message.js';
import type { CipherSuite } from '../protocol/cipher-suites.js';
import type { PacketKeys } from '../protocol/session-crypto.js';
import {
  AuthType,
  PayloadType,
  encodeV15Packet,
  encodeV20Packet,
  type SessionPacket,
} from '../protocol/session-packet.js';
import type { BmcLink, Budget, Incoming } from './bmc-link.js';

/** A command's answer: completion code and the data after it. */
export interface CommandReply {
  readonly cc: number;
  readonly data: Buffer;
}

/** The secrets and parameters of an established RMCP+ session. */
export interface SessionState {
  readonly suite: CipherSuite;
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly keys: PacketKeys;
}

/** A random, non-zero 32-bit session ID. */
export function randomSessionId(): number {
  return (randomBytes(4).readUInt32LE() || 1) >>> 0;
}

/** Matches an IPMI response to `req` inside `packet`, if it is one. */
export function matchResponse(packet: SessionPacket, req: IpmiMessage): CommandReply | undefined {
  if (packet.payloadType !== PayloadType.IPMI) return undefined;
  let m: IpmiMessage;
  try {
    m = decodeIpmiMessage(packet.payload);
  } catch {
    return undefined;
  }
  if (m.netFn !== (req.netFn | 1) || m.cmd !== req.cmd || m.seq !== req.seq || m.data.length < 1) return undefined;
  return { cc: m.data.readUInt8(0), data: m.data.subarray(1) };
}

/** Throws the typed error for a non-zero completion code. */
export function checkCompletion(host: string, what: string, reply: CommandReply): Buffer {
  if (reply.cc === 0) return reply.data;
  const name = COMPLETION_CODES[reply.cc] ?? 'error';
  const detail = `${what} failed: completion code 0x${reply.cc.toString(16)} (${name})`;
  if (reply.cc === 0xd4) throw new AuthError(host, 'ipmi', detail);
  throw new ProtocolError(host, detail);
}

/**
 * A sessionless IPMI request (IPMI 1.5 framing, as Get Channel Authentication
 * Capabilities must be sent before a session exists).
 */
export function sessionlessCall(link: BmcLink, req: IpmiMessage, b: Budget): Promise<CommandReply> {
  const pkt = encodeV15Packet(encodeIpmiMessage(req));
  return link.exchange(
    () => pkt,
    (msg) => (msg.kind === 'ipmi' && msg.packet.sessionId === 0 ? matchResponse(msg.packet, req) : undefined),
    b,
  );
}

/**
 * An active RMCP+ session on one link: numbers outbound packets, matches replies by
 * request sequence, and closes itself. Built by `openSession`.
 */
export class IpmiSession {
  #seq = 0;
  #rqSeq = 0;
  /** Clock time of the last successful reply. */
  lastUsed: number;
  /** Smoothed time the BMC takes to answer in this session (ms; undefined before the first answer). */
  replyMs?: number;

  /** Wraps an established state; installs its keys on the link. */
  constructor(
    private readonly link: BmcLink,
    readonly state: SessionState,
    now: number,
  ) {
    this.lastUsed = now;
    link.setSession({ sessionId: state.consoleSessionId, keys: state.keys });
  }

  /** Installs this session's keys on the link again (after a login that was given up installed its own). */
  reinstall(): void {
    this.link.setSession({ sessionId: this.state.consoleSessionId, keys: this.state.keys });
  }

  /** Sends one command inside the session and waits for its reply. */
  async call(netFn: number, cmd: number, data: Buffer, b: Budget, now: () => number): Promise<CommandReply> {
    this.#rqSeq = (this.#rqSeq + 1) & 0x3f;
    const req = ipmiRequest(netFn, cmd, this.#rqSeq, data);
    const payload = encodeIpmiMessage(req);
    const build = () => {
      this.#seq = (this.#seq + 1) >>> 0 || 1;
      return encodeV20Packet(
        { payloadType: PayloadType.IPMI, sessionId: this.state.bmcSessionId, seq: this.#seq, payload },
        this.state.keys,
      );
    };
    const match = (msg: Incoming) => {
      if (msg.kind !== 'ipmi' || msg.packet.authType !== AuthType.RMCP_PLUS) return undefined;
      if (msg.packet.sessionId !== this.state.consoleSessionId) return undefined;
      // A session with integrity must only accept integrity-protected replies.
      if (this.state.suite.integrityHash && !msg.packet.authenticated) return undefined;
      return matchResponse(msg.packet, req);
    };
    const sent = now();
    const reply = await this.link.exchange(build, match, b);
    this.lastUsed = now();
    const took = this.lastUsed - sent;
    this.replyMs = this.replyMs === undefined ? took : 0.75 * this.replyMs + 0.25 * took;
    return reply;
  }

  /** Sends Close Session; errors are ignored (the BMC expires it anyway). */
  async close(b: Budget, now: () => number): Promise<void> {
    const id = Buffer.alloc(4);
    id.writeUInt32LE(this.state.bmcSessionId);
    try {
      await this.call(NetFn.APP, Cmd.CLOSE_SESSION, id, b, now);
    } catch {
      // best effort
    } finally {
      this.link.setSession(undefined);
    }
  }
}
