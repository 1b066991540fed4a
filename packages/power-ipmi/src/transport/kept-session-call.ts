import { TimeoutError, type Clock } from '@hafence/core';
import type { BmcLink, Budget } from './bmc-link.js';
import type { CommandReply, IpmiSession } from './ipmi-session.js';

/** Round trips of a login: capabilities, Open Session, RAKP 1/2, RAKP 3/4, Set Session Privilege Level. */
export const LOGIN_ROUND_TRIPS = 5;

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly err: unknown };

function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (err: unknown) => ({ ok: false, err }),
  );
}

/** A controller aborted with `parent` (unhooked by `dispose`). */
function child(parent: AbortSignal): { ctl: AbortController; dispose: () => void } {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { ctl, dispose: () => parent.removeEventListener('abort', onAbort) };
}

/** What a call on a kept session needs from its connection. */
export interface KeptCallContext {
  readonly link: BmcLink;
  readonly clock: Clock;
  /** Time a kept session may stay silent before a login is started beside it. */
  readonly probeMs: number;
  /** Logs in within `b` (at most one such login runs per call). */
  readonly login: (b: Budget) => Promise<IpmiSession>;
}

/** How a call on a kept session ended: its reply, and the session to keep. */
export interface KeptCallResult {
  readonly reply: CommandReply;
  readonly session: IpmiSession;
}

/** Thrown when the call failed: `error` is to be rethrown, `keep` the session to keep (undefined: none). */
export class KeptCallFailed extends Error {
  /** Wraps the error to rethrow and the session still worth keeping. */
  constructor(
    readonly error: unknown,
    readonly keep: IpmiSession | undefined,
  ) {
    super('kept session call failed');
  }
}

/** A session that went silent until the deadline is presumed dropped; after other errors it is kept. */
function failed(err: unknown, s: IpmiSession): KeptCallFailed {
  return new KeptCallFailed(err, err instanceof TimeoutError ? undefined : s);
}

/**
 * Sends one command on a kept session for the whole call's time. If it stays silent for `probeMs` — the BMC may
 * have dropped it (restart, its own timeout) — one login is started beside it, if a login at the session's usual
 * pace fits in the time left, and whichever answers first wins: the kept session's reply to the original request
 * (a slow BMC: no new session is left half-open at it), or the new session, in which the command is then sent.
 * Never runs past `b.deadline`; never more than one login.
 */
export async function keptSessionCall(
  ctx: KeptCallContext,
  kept: IpmiSession,
  netFn: number,
  cmd: number,
  data: Buffer,
  b: Budget,
): Promise<KeptCallResult> {
  const now = () => ctx.clock.now();
  b.signal.throwIfAborted();
  const keptAbort = child(b.signal);
  const loginAbort = child(b.signal);
  let timer: unknown;
  try {
    const keptOut = settle(kept.call(netFn, cmd, data, { ...b, signal: keptAbort.ctl.signal }, now));
    const probe = new Promise<'probe'>((resolve) => {
      timer = ctx.clock.setTimeout(() => resolve('probe'), ctx.probeMs);
    });
    const first = await Promise.race([keptOut, probe]);
    ctx.clock.clearTimeout(timer);
    if (first !== 'probe') return keptResult(kept, first);
    const left = b.deadline - now();
    if (left <= 0 || LOGIN_ROUND_TRIPS * (kept.replyMs ?? 0) >= left) return keptResult(kept, await keptOut);
    const loginOut = settle(ctx.login({ ...b, signal: loginAbort.ctl.signal }));
    const winner = await Promise.race([
      keptOut.then((o) => ({ from: 'kept' as const, o })),
      loginOut.then((o) => ({ from: 'login' as const, o })),
    ]);
    if (winner.from === 'kept' && winner.o.ok) {
      loginAbort.ctl.abort();
      const login = await loginOut;
      // A login that completed anyway installed its keys and is open at the BMC: keep it rather than leak it.
      if (login.ok) return { reply: winner.o.value, session: login.value };
      if (ctx.link.sessionId !== kept.state.consoleSessionId) kept.reinstall();
      return { reply: winner.o.value, session: kept };
    }
    const login = winner.from === 'login' ? winner.o : await loginOut;
    if (login.ok) {
      keptAbort.ctl.abort();
      await keptOut;
      return { reply: await freshCall(login.value, netFn, cmd, data, b, now), session: login.value };
    }
    // The login failed: the kept session may still answer within the deadline.
    const last = winner.from === 'kept' ? winner.o : await keptOut;
    if (!last.ok) throw new KeptCallFailed(login.err instanceof TimeoutError ? last.err : login.err, undefined);
    if (ctx.link.sessionId !== kept.state.consoleSessionId) kept.reinstall();
    return { reply: last.value, session: kept };
  } finally {
    ctx.clock.clearTimeout(timer);
    keptAbort.ctl.abort();
    loginAbort.ctl.abort();
    keptAbort.dispose();
    loginAbort.dispose();
  }
}

function keptResult(kept: IpmiSession, o: Outcome<CommandReply>): KeptCallResult {
  if (o.ok) return { reply: o.value, session: kept };
  throw failed(o.err, kept);
}

async function freshCall(
  s: IpmiSession,
  netFn: number,
  cmd: number,
  data: Buffer,
  b: Budget,
  now: () => number,
): Promise<CommandReply> {
  try {
    return await s.call(netFn, cmd, data, b, now);
  } catch (err) {
    throw failed(err, s);
  }
}
