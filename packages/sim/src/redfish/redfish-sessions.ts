import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@hafence/core';

/** One login session of the simulated service. */
export interface RedfishSimSession {
  readonly id: string;
  readonly token: string;
  readonly userName: string;
  lastUsed: number;
}

/** Who a request is, or why not. */
export type RedfishAuthResult =
  | { readonly ok: true; readonly userName: string; readonly session?: RedfishSimSession }
  | { readonly ok: false; readonly reason: 'none' | 'bad-credentials' | 'bad-token' | 'basic-disabled' };

/** Options of {@link RedfishSessions}. */
export interface RedfishSessionsOptions {
  readonly username: string;
  readonly password: string;
  readonly basicAuth: boolean;
  /** Idle sessions end after this (Redfish `SessionTimeout`, default 1800 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Most sessions open at once (default 16, like many BMCs); older idle ones are not evicted. A login
   * beyond gets 503 with Base `SessionLimitExceeded`, as OpenBMC's bmcweb answers.
   */
  readonly maxSessions?: number;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The account, the session table and the `Authorization`/`X-Auth-Token` check of a simulated Redfish service. */
export class RedfishSessions {
  readonly #options: RedfishSessionsOptions;
  readonly #clock: Clock;
  readonly #byToken = new Map<string, RedfishSimSession>();
  #nextId = 1;
  /** Sessions created since start. */
  created = 0;
  /** Most sessions that were open at once since start. */
  peakOpen = 0;
  /** The `wrong-password` fault: the BMC no longer accepts the configured password. */
  rejectAll = false;

  constructor(options: RedfishSessionsOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Whether HTTP Basic authentication is accepted. */
  get basicEnabled(): boolean {
    return this.#options.basicAuth;
  }

  /** Idle timeout in seconds, as `SessionService.SessionTimeout` shows it. */
  get timeoutSeconds(): number {
    return Math.round((this.#options.sessionTimeoutMs ?? 1_800_000) / 1000);
  }

  /** Open sessions (expired ones dropped first). */
  list(): RedfishSimSession[] {
    this.#expire();
    return [...this.#byToken.values()];
  }

  /** Checks a user name and password. */
  checkPassword(userName: unknown, password: unknown): boolean {
    if (this.rejectAll || typeof userName !== 'string' || typeof password !== 'string') return false;
    return same(userName, this.#options.username) && same(password, this.#options.password);
  }

  /** Opens a session, or `undefined` when the table is full. */
  open(userName: string): RedfishSimSession | undefined {
    this.#expire();
    if (this.#byToken.size >= (this.#options.maxSessions ?? 16)) return undefined;
    const session = {
      id: String(this.#nextId++),
      token: randomBytes(16).toString('hex'),
      userName,
      lastUsed: this.#clock.now(),
    };
    this.#byToken.set(session.token, session);
    this.created++;
    this.peakOpen = Math.max(this.peakOpen, this.#byToken.size);
    return session;
  }

  /** Ends a session by id; false when there is none. */
  close(id: string): boolean {
    for (const [token, s] of this.#byToken) {
      if (s.id !== id) continue;
      this.#byToken.delete(token);
      return true;
    }
    return false;
  }

  /** Drops every session (the BMC rebooted). */
  clear(): void {
    this.#byToken.clear();
  }

  /** Who sent a request with these headers: a session token first, else Basic when enabled. */
  authenticate(authorization: string | undefined, token: string | undefined): RedfishAuthResult {
    this.#expire();
    if (token !== undefined) {
      const session = this.rejectAll ? undefined : this.#byToken.get(token);
      if (!session) return { ok: false, reason: 'bad-token' };
      session.lastUsed = this.#clock.now();
      return { ok: true, userName: session.userName, session };
    }
    const m = authorization === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (!m) return { ok: false, reason: 'none' };
    if (!this.#options.basicAuth) return { ok: false, reason: 'basic-disabled' };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'bad-credentials' };
    const userName = decoded.slice(0, colon);
    if (!this.checkPassword(userName, decoded.slice(colon + 1))) return { ok: false, reason: 'bad-credentials' };
    return { ok: true, userName };
  }

  #expire(): void {
    const limit = this.#options.sessionTimeoutMs ?? 1_800_000;
    const now = this.#clock.now();
    for (const [token, s] of this.#byToken) if (now - s.lastUsed > limit) this.#byToken.delete(token);
  }
}
