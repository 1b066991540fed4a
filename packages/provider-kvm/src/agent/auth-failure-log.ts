import type { Clock, Logger } from '@hafence/core';

/** Options of {@link AuthFailureLog}. */
export interface AuthFailureLogOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** At most one line per source address per window (default 60 s). */
  readonly windowMs?: number;
  /** At most this many lines per window in all (default 20); the rest are counted. */
  readonly maxLinesPerWindow?: number;
}

/**
 * Logs failed authentications with their source address, rate-limited: one line per
 * address per window (carrying how many failures it stands for), and at most
 * `maxLinesPerWindow` lines per window in all, so a flood cannot flood the log. The
 * presented token is never logged.
 */
export class AuthFailureLog {
  private readonly windowMs: number;
  private readonly maxLines: number;
  private readonly perAddress = new Map<string, { loggedAt: number; unlogged: number }>();
  private windowStart: number;
  private lines = 0;
  private suppressed = 0;

  /** Binds the log to its clock and logger. */
  constructor(private readonly options: AuthFailureLogOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxLines = options.maxLinesPerWindow ?? 20;
    this.windowStart = options.clock.now();
  }

  /**
   * One failed authentication from `source` (`reason`: a `missing` or `wrong` token, or a peer token where it is not
   * allowed).
   */
  record(source: string, reason: 'missing token' | 'wrong token' | 'peer token on a management-server route'): void {
    const now = this.options.clock.now();
    this.roll(now);
    const entry = this.perAddress.get(source);
    if (entry && now - entry.loggedAt < this.windowMs) {
      entry.unlogged++;
      return;
    }
    if (this.lines >= this.maxLines) {
      this.suppressed++;
      return;
    }
    this.lines++;
    const failures = (entry?.unlogged ?? 0) + 1;
    this.perAddress.set(source, { loggedAt: now, unlogged: 0 });
    this.options.logger.warn('agent: authentication failed', { source, reason, failures });
  }

  private roll(now: number): void {
    if (now - this.windowStart < this.windowMs) return;
    for (const [address, e] of this.perAddress) {
      if (now - e.loggedAt < this.windowMs) continue;
      this.suppressed += e.unlogged; // counted here, so the map holds only recent addresses
      this.perAddress.delete(address);
    }
    if (this.suppressed > 0) {
      this.options.logger.warn('agent: failed authentications not logged (rate limit)', {
        count: this.suppressed,
        windowMs: this.windowMs,
      });
    }
    this.windowStart = now;
    this.lines = 0;
    this.suppressed = 0;
  }
}
