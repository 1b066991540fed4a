import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { systemClock, type Clock } from '@hafence/core';
import { SimBmcEngine } from './sim-bmc-engine.js';
import { SimChassis, type SimChassisOptions } from './sim-chassis.js';
import { DEFAULT_SIM_USERS, type SimUser } from './sim-users.js';

/** Misbehaviours a {@link SimBmc} can be switched into. */
export interface SimBmcFaults {
  /** Answer nothing at all. */
  down?: boolean;
  /** Delay every reply by this many ms. */
  slowMs?: number;
  /** Compute RAKP 2 with this password: a BMC that does not know the user's password. */
  wrongKey?: string;
  /** Forget every session after each answered in-session chassis command. */
  dropSessions?: boolean;
  /** Flip a byte in every reply. */
  corruptReplies?: boolean;
}

/** Options of {@link SimBmc.start}. */
export interface SimBmcOptions extends SimChassisOptions {
  /** Listen address (default 127.0.0.1). */
  readonly address?: string;
  /** UDP port (default 0: an ephemeral port; read {@link SimBmc.port}). */
  readonly port?: number;
  /** Accounts (default admin / password, administrator). */
  readonly users?: readonly SimUser[];
  /** Cipher suites accepted (default 3 and 17). */
  readonly cipherSuites?: readonly number[];
  /** Session slots (default 63). */
  readonly maxSessions?: number;
  /** Idle sessions expire after this (default 60 s). */
  readonly sessionTimeoutMs?: number;
  /** Timers of delayed replies and of the chassis (default the system clock). */
  readonly clock?: Clock;
}

/**
 * A BMC simulator speaking IPMI 2.0 / RMCP+ over UDP (cipher suites 3 and 17): RMCP
 * presence ping, Get Channel Authentication Capabilities, RAKP 1–4, integrity and
 * AES-CBC-128, Get Device ID, Get Chassis Status, Chassis Control, Chassis Identify,
 * a power model and switchable faults. Real `ipmitool -I lanplus` and `ipmipower` talk to it.
 *
 * @example
 * const bmc = await SimBmc.start({ users: [{ name: 'admin', password: 'pw', privilege: 4 }], power: 'ON' });
 * // … point a client at 127.0.0.1:bmc.port …
 * bmc.faults.down = true;
 * await bmc.close();
 */
export class SimBmc {
  /** The power model. */
  readonly chassis: SimChassis;
  /** The protocol core (sessions, RAKP). */
  readonly engine: SimBmcEngine;
  /** Switch faults on and off at any time. */
  readonly faults: SimBmcFaults = {};
  /** Datagrams received, rejected as malformed, and answered. */
  readonly stats = { received: 0, rejected: 0, answered: 0 };
  /** Why the last rejected datagram was rejected. */
  lastRejection?: Error;
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #delayed = new Set<unknown>();
  #closed = false;

  private constructor(socket: Socket, options: SimBmcOptions) {
    this.#socket = socket;
    this.#clock = options.clock ?? systemClock;
    this.chassis = new SimChassis(options);
    this.engine = new SimBmcEngine(this.chassis, {
      users: options.users ?? DEFAULT_SIM_USERS,
      cipherSuites: options.cipherSuites,
      maxSessions: options.maxSessions,
      sessionTimeoutMs: options.sessionTimeoutMs,
      clock: options.clock,
    });
    socket.on('message', (msg, from) => this.#onMessage(msg, from));
  }

  /** Starts a simulator listening on UDP. */
  static async start(options: SimBmcOptions = {}): Promise<SimBmc> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 0, options.address ?? '127.0.0.1', () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    return new SimBmc(socket, options);
  }

  /** The bound UDP port. */
  get port(): number {
    return this.#socket.address().port;
  }

  /** The bound address. */
  get address(): string {
    return this.#socket.address().address;
  }

  /** Number of open sessions. */
  get sessionCount(): number {
    return this.engine.sessions.size;
  }

  /** Stops listening and cancels chassis timers. */
  async close(): Promise<void> {
    this.#closed = true;
    this.chassis.stop();
    for (const t of this.#delayed) this.#clock.clearTimeout(t);
    this.#delayed.clear();
    await new Promise<void>((r) => this.#socket.close(() => r()));
  }

  #onMessage(msg: Buffer, from: RemoteInfo): void {
    this.stats.received++;
    if (this.faults.down) return;
    let replies: Buffer[];
    this.engine.wrongKey = this.faults.wrongKey;
    this.engine.dropAfterChassisCommand = this.faults.dropSessions === true;
    try {
      replies = this.engine.handle(msg);
    } catch (err) {
      this.stats.rejected++;
      this.lastRejection = err as Error;
      return;
    }
    for (const r of replies) this.#send(this.faults.corruptReplies ? corrupt(r) : r, from);
  }

  #send(buf: Buffer, to: RemoteInfo): void {
    const go = () => {
      if (this.#closed) return;
      this.stats.answered++;
      this.#socket.send(buf, to.port, to.address, () => {
        /* a closed socket or a gone peer is a lost datagram */
      });
    };
    if (!this.faults.slowMs) {
      go();
      return;
    }
    const t = this.#clock.setTimeout(() => {
      this.#delayed.delete(t);
      go();
    }, this.faults.slowMs);
    this.#delayed.add(t);
  }
}

function corrupt(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  const i = Math.min(out.length - 1, 4 + Math.floor((out.length - 4) / 2));
  if (i >= 0) out.writeUInt8(out.readUInt8(i) ^ 0x5a, i);
  return out;
}
