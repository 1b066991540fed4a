import { TimeoutError, raceAbort, type Clock } from '@hafence/core';
import { encodeAsfPing, AsfType, type AsfMessage } from '../protocol/rmcp.js';
import type { BmcLink, Budget } from './bmc-link.js';
import type { CommandReply, IpmiSession } from './ipmi-session.js';
import { KeptCallFailed, keptSessionCall } from './kept-session-call.js';
import { openSession, type LoginOptions } from './open-session.js';

/** Default of {@link SessionPolicy.idleMs}: above the default power sync interval, below the BMCs' timeout. */
export const DEFAULT_SESSION_IDLE_MS = 50_000;

/** Default of {@link SessionPolicy.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** How long sessions live, how many stay open, and how quickly a silent one is given up. */
export interface SessionPolicy {
  /**
   * A reused session that stays silent this long — or half of what is left of the call, or 4 × its usual reply time,
   * whichever is longest — is presumed dropped by the BMC and re-established within the call's deadline.
   */
  readonly probeMs: number;
  /**
   * A session idle longer than this is closed and re-established before use. Keep it above the time between two
   * reads of one BMC (the power sync interval, 30 s ± 10 % by default) so each read reuses the session, and below
   * the BMC's own session inactivity timeout (60 s by the IPMI specification; OpenIPMI's `ipmi_sim`: 30 s), after
   * which the BMC has forgotten it: a reuse then costs a probe ({@link SessionPolicy.probeMs}) and a new login.
   */
  readonly idleMs: number;
  /**
   * Sessions open at once in one client, over every BMC. Past it the least recently used idle session is closed
   * (Close Session sent). Keep it above the number of BMCs read regularly, or their reads log in every time.
   */
  readonly maxSessions: number;
}

/**
 * Everything hafence does with one BMC, one operation at a time: the session is opened
 * on first use, reused while it answers, and re-established when the BMC drops it.
 */
export class BmcConnection {
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  /** Callers holding this connection between looking it up and finishing with it. */
  #holders = 0;
  #session?: IpmiSession;
  #pingTag = 0;

  /** Wraps `link` with `login`. */
  constructor(
    readonly link: BmcLink,
    private readonly login: LoginOptions,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
  ) {}

  /** Whether no operation is running or queued, and no caller holds the connection. */
  get idle(): boolean {
    return this.#busy === 0 && this.#holders === 0;
  }

  /** Marks the connection as held by a caller (never evicted meanwhile); pair with {@link BmcConnection.release}. */
  hold(): void {
    this.#holders++;
  }

  /** Ends a {@link BmcConnection.hold}. */
  release(): void {
    this.#holders--;
  }

  /** Whether a session is currently open. */
  get hasSession(): boolean {
    return this.#session !== undefined;
  }

  /** Clock time of the open session's last answer (undefined without a session). */
  get lastUsed(): number | undefined {
    return this.#session?.lastUsed;
  }

  /** Whether the open session has been idle longer than the policy allows at `now`. */
  expired(now: number): boolean {
    return this.#session !== undefined && now - this.#session.lastUsed > this.policy.idleMs;
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
    if (this.expired(now())) await this.closeSession(b.signal);
    const kept = this.#session;
    if (!kept) {
      const session = (this.#session = await openSession(this.link, this.login, b, now));
      try {
        return await session.call(netFn, cmd, data, b, now);
      } catch (err) {
        if (err instanceof TimeoutError) this.#forget();
        throw err;
      }
    }
    // A reused session the BMC may have dropped gets half of what is left of the call (at least probeMs, at least
    // 4 × its usual reply time) before a login is started beside it; its reply is still taken until the deadline,
    // so a BMC that is merely slow is not logged into again (that would leave sessions half-open at the BMC).
    const probeMs = Math.max(this.policy.probeMs, 4 * (kept.replyMs ?? 0), (b.deadline - now()) / 2);
    const login = (lb: Budget) => openSession(this.link, this.login, lb, now);
    try {
      const { reply, session } = await keptSessionCall(
        { link: this.link, clock: this.clock, probeMs, login },
        kept,
        netFn,
        cmd,
        data,
        b,
      );
      this.#session = session;
      return reply;
    } catch (err) {
      if (!(err instanceof KeptCallFailed)) throw err;
      if (err.keep) this.#session = err.keep;
      else this.#forget();
      throw err.error;
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
