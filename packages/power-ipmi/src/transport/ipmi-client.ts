import { createHmac, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import {
  ConfigError,
  ProtocolError,
  UnreachableError,
  raceAbort,
  systemClock,
  type Clock,
  type Secret,
} from '@hafence/core';
import {
  ChassisControl,
  Cmd,
  NetFn,
  Privilege,
  decodeChassisStatus,
  decodeDeviceId,
  type ChassisStatus,
  type DeviceId,
} from '../protocol/commands.js';
import type { AsfMessage } from '../protocol/rmcp.js';
import { BmcConnection, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS, type SessionPolicy } from './bmc-connection.js';
import { BmcLink, type Budget, type RetransmitPolicy } from './bmc-link.js';
import { checkCompletion } from './ipmi-session.js';
import { UdpEndpoint } from './udp-endpoint.js';

/** The signal of calls that bring none: never aborts, shared by every such call. */
const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);

/** A BMC and the account to log in with. */
export interface IpmiBmc {
  /** Name for errors (default: the address). */
  readonly host?: string;
  readonly address: string;
  /** UDP port (default 623). */
  readonly port?: number;
  readonly username: string;
  readonly password: Secret;
  /** Privilege to request (default 4, administrator). */
  readonly privilege?: number;
  /** Cipher suites in order of preference (default `[17, 3]`). */
  readonly cipherSuites?: readonly number[];
  /** This BMC's {@link SessionPolicy.idleMs} (default the client's): below its session inactivity timeout. */
  readonly sessionIdleMs?: number;
}

/** Per-call limits. */
export interface IpmiCallOptions {
  readonly signal?: AbortSignal;
  /** Overall deadline of the call, retransmissions and (re)login included (default 5000). */
  readonly timeoutMs?: number;
}

/** Options of {@link IpmiClient}. */
export interface IpmiClientOptions {
  readonly clock?: Clock;
  /** Share one UDP endpoint between clients (default: a private one). */
  readonly endpoint?: UdpEndpoint;
  /** Retransmission pacing (default first resend after 250 ms, doubling up to 1000 ms). */
  readonly retransmit?: Partial<RetransmitPolicy>;
  /** Session reuse limits (default probe 1000 ms, idle 50000 ms, at most 10000 sessions open). */
  readonly session?: Partial<SessionPolicy>;
}

/** Decodes authenticated reply data; a short or malformed one is the BMC's protocol error. */
function decodeReply<T>(bmc: IpmiBmc, what: string, decode: (data: Buffer) => T, data: Buffer): T {
  try {
    return decode(data);
  } catch (err) {
    throw new ProtocolError(bmc.host ?? bmc.address, `${what}: malformed reply data`, { cause: err });
  }
}

/** The chassis actions of Chassis Control. */
export type ChassisAction = keyof typeof ChassisControl;

/**
 * An IPMI 2.0 / RMCP+ LAN client for many BMCs at once: one UDP socket, one queue and
 * one reusable session per BMC, retransmission inside each call's deadline.
 *
 * @example
 * const client = new IpmiClient();
 * const bmc = { address: '10.0.0.5', username: 'admin', password: new Secret(pw) };
 * const { powerOn } = await client.chassisStatus(bmc, { timeoutMs: 3000 });
 * await client.close();
 */
export class IpmiClient {
  readonly #clock: Clock;
  readonly #endpoint: UdpEndpoint;
  readonly #ownEndpoint: boolean;
  readonly #retransmit: RetransmitPolicy;
  readonly #policy: SessionPolicy;
  readonly #connections = new Map<string, BmcConnection>();
  readonly #fingerprintKey = randomBytes(32);
  readonly #fingerprints = new WeakMap<Secret, string>();
  /** Close Sessions of evicted connections still running (awaited by {@link IpmiClient.close}). */
  readonly #closing = new Set<Promise<void>>();
  readonly #keyOf = new WeakMap<BmcConnection, string>();

  /** Creates a client; nothing is opened until the first call. */
  constructor(options: IpmiClientOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#ownEndpoint = !options.endpoint;
    this.#endpoint = options.endpoint ?? new UdpEndpoint();
    this.#retransmit = { initialMs: 250, maxMs: 1000, ...options.retransmit };
    this.#policy = policyOf(options.session);
  }

  /** Get Chassis Status. */
  async chassisStatus(bmc: IpmiBmc, options: IpmiCallOptions = {}): Promise<ChassisStatus> {
    const data = await this.command(bmc, NetFn.CHASSIS, Cmd.GET_CHASSIS_STATUS, Buffer.alloc(0), options, 'status');
    return decodeReply(bmc, 'Get Chassis Status', decodeChassisStatus, data);
  }

  /** Chassis Control: `up`, `down`, `cycle`, `hardReset` or `softShutdown`. */
  async chassisControl(bmc: IpmiBmc, action: ChassisAction, options: IpmiCallOptions = {}): Promise<void> {
    await this.command(
      bmc,
      NetFn.CHASSIS,
      Cmd.CHASSIS_CONTROL,
      Buffer.from([ChassisControl[action]]),
      options,
      `chassis ${action}`,
    );
  }

  /** Chassis Identify for `seconds` (0 turns the light off; at most 255). */
  async chassisIdentify(bmc: IpmiBmc, seconds: number, options: IpmiCallOptions = {}): Promise<void> {
    const s = Math.max(0, Math.min(255, Math.round(seconds)));
    await this.command(bmc, NetFn.CHASSIS, Cmd.CHASSIS_IDENTIFY, Buffer.from([s, 0]), options, 'identify');
  }

  /** Get Device ID. */
  async deviceId(bmc: IpmiBmc, options: IpmiCallOptions = {}): Promise<DeviceId> {
    const data = await this.command(bmc, NetFn.APP, Cmd.GET_DEVICE_ID, Buffer.alloc(0), options, 'device id');
    return decodeReply(bmc, 'Get Device ID', decodeDeviceId, data);
  }

  /** RMCP/ASF presence ping (no login). */
  async ping(bmc: IpmiBmc, options: IpmiCallOptions = {}): Promise<AsfMessage> {
    const conn = await this.#connection(bmc);
    const b = this.#budget(options, 'ping');
    try {
      return await conn.serial(() => conn.ping(b), b.signal);
    } finally {
      this.#done(conn);
    }
  }

  /** Sends any command in a session; returns the data after a zero completion code. */
  async command(
    bmc: IpmiBmc,
    netFn: number,
    cmd: number,
    data: Buffer,
    options: IpmiCallOptions = {},
    op = 'command',
  ): Promise<Buffer> {
    const b = this.#budget(options, op);
    const conn = await this.#connection(bmc, b.signal);
    try {
      const reply = await conn.serial(() => conn.command(netFn, cmd, data, b), b.signal);
      return checkCompletion(conn.link.to.host, op, reply);
    } finally {
      this.#done(conn);
    }
  }

  /** Number of open sessions (for tests and metrics). */
  get openSessions(): number {
    return [...this.#connections.values()].filter((c) => c.hasSession).length;
  }

  /** Closes every session (Close Session to each BMC) and the socket. */
  async close(): Promise<void> {
    const conns = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all([...conns.map((c) => closeConnection(c)), ...this.#closing]);
    if (this.#ownEndpoint) await this.#endpoint.close();
  }

  /**
   * Closes, least recently used first, the idle sessions past their idle limit and, while more connections than
   * {@link SessionPolicy.maxSessions} are open, the least recently used idle ones. The map is kept in order of
   * use, so the walk stops at the first connection that is neither.
   */
  #trim(): void {
    const now = this.#clock.now();
    for (const [key, conn] of this.#connections) {
      const over = this.#connections.size > this.#policy.maxSessions;
      if (!over && !conn.expired(now)) return;
      if (!conn.idle) continue; // in use: it stays (the cap is met again once it finishes)
      this.#connections.delete(key);
      const closing = closeConnection(conn);
      this.#closing.add(closing);
      void closing.finally(() => this.#closing.delete(closing));
    }
  }

  /** A caller finished with `conn`: drop it if it has no session, and meet the cap again. */
  #done(conn: BmcConnection): void {
    conn.release();
    this.#forgetIfUnused(conn);
    if (this.#connections.size > this.#policy.maxSessions) this.#trim();
  }

  /** A connection that failed to log in and has nothing queued is dropped (wrong passwords do not pile up). */
  #forgetIfUnused(conn: BmcConnection): void {
    if (conn.hasSession || !conn.idle) return;
    const key = this.#keyOf.get(conn);
    if (key !== undefined && this.#connections.get(key) === conn) {
      this.#connections.delete(key);
      conn.link.close();
    }
  }

  #budget(options: IpmiCallOptions, op: string): Budget {
    const timeoutMs = options.timeoutMs ?? 5000;
    return { deadline: this.#clock.now() + timeoutMs, signal: options.signal ?? NEVER, op, timeoutMs };
  }

  async #connection(bmc: IpmiBmc, signal?: AbortSignal): Promise<BmcConnection> {
    const port = bmc.port ?? 623;
    const address = await this.#resolve(bmc, port, signal);
    const privilege = bmc.privilege ?? Privilege.ADMINISTRATOR;
    const suites = bmc.cipherSuites ?? [17, 3];
    // The password is part of the identity (a changed password needs a new session) but is
    // only kept as a keyed fingerprint, never as a map key in clear.
    const fp = this.#fingerprint(bmc.password);
    const idleMs = bmc.sessionIdleMs ?? this.#policy.idleMs;
    const key = [address, port, bmc.username, fp, privilege, suites.join(','), idleMs].join('|');
    let conn = this.#connections.get(key);
    const fresh = !conn;
    if (conn) {
      // Most recently used last: the map's order is the eviction order.
      this.#connections.delete(key);
      this.#connections.set(key, conn);
    } else {
      const link = new BmcLink(
        { host: bmc.host ?? bmc.address, address, port },
        this.#endpoint,
        this.#clock,
        this.#retransmit,
      );
      conn = new BmcConnection(
        link,
        { username: bmc.username, password: bmc.password, privilege, suites },
        this.#clock,
        { ...this.#policy, idleMs },
      );
      this.#connections.set(key, conn);
      this.#keyOf.set(conn, key);
    }
    conn.hold(); // until #done: neither trimmed nor forgotten while the caller uses it
    if (fresh) this.#trim();
    return conn;
  }

  #fingerprint(password: Secret): string {
    let fp = this.#fingerprints.get(password);
    if (!fp) {
      fp = createHmac('sha256', this.#fingerprintKey).update(password.reveal()).digest('base64');
      this.#fingerprints.set(password, fp);
    }
    return fp;
  }

  async #resolve(bmc: IpmiBmc, port: number, signal?: AbortSignal): Promise<string> {
    if (isIP(bmc.address)) return bmc.address;
    signal?.throwIfAborted();
    try {
      const found = lookup(bmc.address);
      return (await (signal ? raceAbort(found, signal) : found)).address;
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UnreachableError(bmc.host ?? bmc.address, `${bmc.address}:${port}`, 'name does not resolve', {
        cause: err,
      });
    }
  }
}

/** The session policy with its defaults, each value checked. */
function policyOf(given: Partial<SessionPolicy> = {}): SessionPolicy {
  const policy = { probeMs: 1000, idleMs: DEFAULT_SESSION_IDLE_MS, maxSessions: DEFAULT_MAX_SESSIONS, ...given };
  const issues = (['probeMs', 'idleMs', 'maxSessions'] as const)
    .filter((k) => !(Number.isInteger(policy[k]) && policy[k] > 0))
    .map((k) => ({ path: `session.${k}`, value: policy[k], rule: 'must be a positive integer' }));
  if (issues.length > 0) throw new ConfigError(issues);
  return policy;
}

/** Sends Close Session (best effort, after the connection's queue) and stops receiving for it. */
function closeConnection(conn: BmcConnection): Promise<void> {
  const signal = new AbortController().signal;
  return conn
    .serial(() => conn.closeSession(signal), signal)
    .catch(() => undefined)
    .finally(() => conn.link.close());
}
