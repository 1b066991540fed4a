import { TimeoutError, raceAbort, type Clock } from '@hafence/core';
import { encodeAsfPing, AsfType, type AsfMessage } from '../protocol/rmcp.js';
import type { BmcLink, Budget } from './bmc-link.js';
import type { CommandReply, IpmiSession } from './ipmi-session.js';
import { openSession, type LoginOptions } from './open-session.js';

/** How long sessions live and how quickly a silent one is given up. */
export interface SessionPolicy {
  /** A reused session that stays silent this long is presumed dropped by the BMC and re-established. */
  readonly probeMs: number;
  /** A session idle longer than this is closed and re-established before use (BMCs expire idle sessions). */
  readonly idleMs: number;
}

/**
 * Everything hafence does with one BMC, one operation at a time: the session is opened
 * on first use, reused while it answers, and re-established when the BMC drops it.
 */
export class BmcConnection {
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #session?: IpmiSession;
  #pingTag = 0;

  /** Wraps `link` with `login`. */
  constructor(
    readonly link: BmcLink,
    private readonly login: LoginOptions,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
  ) {}

  /** Whether no operation is running or queued. */
  get idle(): boolean {
    return this.#busy === 0;
  }

  /** Whether a session is currently open. */
  get hasSession(): boolean {
    return this.#session !== undefined;
  }

  /** Runs `fn` after every earlier operation on this BMC finished (per-BMC serialisation). */
  async serial<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const prev = this.#queue;
    const idle = this.#busy === 0;
    this.#busy++;
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    this.#queue = prev.then(() => mine);
    try {
      if (!idle) await raceAbort(prev, signal);
      else signal.throwIfAborted();
      return await fn();
    } finally {
      this.#busy--;
      release();
    }
  }

  /** Sends one command in a session, logging in or re-establishing the session as needed. */
  async command(netFn: number, cmd: number, data: Buffer, b: Budget): Promise<CommandReply> {
    const now = () => this.clock.now();
    if (this.#session && now() - this.#session.lastUsed > this.policy.idleMs) await this.closeSession(b.signal);
    for (;;) {
      const fresh = !this.#session;
      if (!this.#session) this.#session = await openSession(this.link, this.login, b, now);
      const session = this.#session;
      const budget = fresh ? b : { ...b, deadline: Math.min(b.deadline, now() + this.policy.probeMs) };
      try {
        return await session.call(netFn, cmd, data, budget, now);
      } catch (err) {
        if (err instanceof TimeoutError) this.#forget();
        // A reused session that went silent was most likely dropped by the BMC: log in again.
        if (err instanceof TimeoutError && !fresh && now() < b.deadline) continue;
        throw err;
      }
    }
  }

  /** RMCP/ASF presence ping: proves something RMCP-aware listens, without logging in. */
  ping(b: Budget): Promise<AsfMessage> {
    const tag = (this.#pingTag = (this.#pingTag + 1) & 0xff);
    const pkt = encodeAsfPing(tag);
    return this.link.exchange(
      () => pkt,
      (m) => (m.kind === 'asf' && m.asf.type === AsfType.PONG && m.asf.tag === tag ? m.asf : undefined),
      b,
    );
  }

  /** Closes the session if one is open (best effort, bounded by a short deadline). */
  async closeSession(signal: AbortSignal = new AbortController().signal, ms = 500): Promise<void> {
    const s = this.#session;
    if (!s) return;
    this.#session = undefined; // the session clears the link's keys once its Close Session is answered
    await s.close({ deadline: this.clock.now() + ms, signal, op: 'close session', timeoutMs: ms }, () =>
      this.clock.now(),
    );
  }

  #forget(): void {
    this.#session = undefined;
    this.link.setSession(undefined);
  }
}
