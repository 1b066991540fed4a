import {
  AuthError,
  ProtocolError,
  UnreachableError,
  delay,
  type Clock,
  type HaError,
  type Logger,
} from '@hafence/core';
import { toRequestPath } from '../protocol/odata-path.js';
import { parseRedfishJson, type JsonObject } from '../protocol/redfish-json.js';
import { readMembers, readServiceRoot, type ServiceRoot } from '../protocol/resources.js';
import { httpsCall, type HttpsAnswer, type HttpsEndpoint, type HttpsRequest } from './https-call.js';
import { authHeaders, loginBody, type RedfishAccount, type RedfishAuth } from './redfish-session.js';
import { statusError } from './status-errors.js';

/** How a {@link RedfishBmc} logs in and finds its system. */
export interface RedfishBmcConfig {
  readonly endpoint: HttpsEndpoint;
  readonly account: RedfishAccount;
  /** Use HTTP Basic when the service has no session login (the user's explicit choice). */
  readonly basicAuth: boolean;
  /** The system's `Id` (or the last part of its path); the only member when absent. */
  readonly systemId?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Times a 503 is retried (after `Retry-After`, at most 1 s). */
  readonly busyRetries: number;
  /**
   * After the BMC refused these credentials (401/403 to a login or to HTTP Basic), calls fail
   * at once with an `AuthError` for this long without contacting it (0: never), so that
   * retries never lock the account (BMCs lock it after 3–5 failures).
   */
  readonly authBackoffMs: number;
}

/** A request as the driver makes it. */
export interface BmcRequest {
  readonly method: HttpsRequest['method'];
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly what: string;
  readonly signal: AbortSignal;
  /** Statuses the caller handles itself (no error thrown for them). */
  readonly accept?: readonly number[];
}

/** An answer with its body parsed (when it has one). */
export interface BmcAnswer {
  readonly status: number;
  readonly headers: HttpsAnswer['headers'];
  readonly doc?: JsonObject;
}

const SESSIONS_DEFAULT = '/redfish/v1/SessionService/Sessions';
const NO_SESSIONS = new Set([404, 405, 501]);
const MAX_RETRY_AFTER_MS = 1000;

function retryAfterMs(headers: HttpsAnswer['headers']): number {
  const v = Number(headers['retry-after']);
  return Number.isFinite(v) && v >= 0 ? Math.min(v * 1000, MAX_RETRY_AFTER_MS) : 200;
}

/**
 * One BMC as seen by one account: its kept-alive endpoint, its session (created on first
 * use, created again when the BMC forgets it, deleted on {@link RedfishBmc.logout}), its
 * service root and the path of the system it manages.
 */
export class RedfishBmc {
  readonly #cfg: RedfishBmcConfig;
  #auth: Promise<RedfishAuth> | undefined;
  #root: ServiceRoot | undefined;
  #system: string | undefined;
  /** When the credentials were last refused, and how (the back-off of {@link RedfishBmcConfig.authBackoffMs}). */
  #refused: { readonly at: number; readonly detail: string } | undefined;
  /** Learned from a 428: this BMC wants `If-Match` on actions. */
  requiresIfMatch = false;

  /** Creates the BMC's state; nothing is sent yet. */
  constructor(config: RedfishBmcConfig) {
    this.#cfg = config;
  }

  /** Name for errors. */
  get host(): string {
    return this.#cfg.endpoint.host;
  }

  /** A request without authentication (the service root is open by the standard). */
  async open(req: BmcRequest): Promise<BmcAnswer> {
    return this.#send(req, {});
  }

  /** A request with the session (logging in first, and once more when the BMC forgot the session). */
  async call(req: BmcRequest): Promise<BmcAnswer> {
    this.#checkBackoff();
    const { pending, auth } = await this.#session(req.signal);
    const first = await this.#send(req, authHeaders(auth, this.#cfg.account), [401]);
    if (first.status !== 401) return first;
    if (auth.kind === 'basic') throw this.#refuse(statusError(this.host, req.what, 401, first.doc));
    // the session may have expired or been deleted on the BMC: log in once more
    if (this.#auth === pending) this.#auth = undefined;
    const fresh = await this.#login(req.signal);
    return this.#send(req, authHeaders(fresh, this.#cfg.account));
  }

  /** Fails at once while the credentials are in their back-off after a refusal. */
  #checkBackoff(): void {
    const r = this.#refused;
    if (!r) return;
    const left = r.at + this.#cfg.authBackoffMs - this.#cfg.clock.now();
    if (left <= 0) {
      this.#refused = undefined;
      return;
    }
    throw new AuthError(
      this.host,
      'redfish',
      `${r.detail}; not tried again for ${Math.ceil(left / 1000)} s (authBackoffMs) so as not to lock the account`,
    );
  }

  /** Remembers a refusal of the credentials (when back-off is on) and returns the error. */
  #refuse(err: HaError): HaError {
    if (err instanceof AuthError && this.#cfg.authBackoffMs > 0)
      this.#refused = { at: this.#cfg.clock.now(), detail: err.message };
    return err;
  }

  /** The service root, read once. */
  async root(signal: AbortSignal): Promise<ServiceRoot> {
    if (!this.#root) {
      const a = await this.open({ method: 'GET', path: '/redfish/v1', what: 'service root', signal });
      this.#root = readServiceRoot(this.#need(a, 'service root'), this.host);
    }
    return this.#root;
  }

  /** The path of the managed system: the configured id, or the only member of `Systems`. */
  async systemPath(signal: AbortSignal): Promise<string> {
    if (this.#system) return this.#system;
    const root = await this.root(signal);
    const a = await this.call({ method: 'GET', path: root.systems, what: 'Systems', signal });
    const members = readMembers(this.#need(a, 'Systems'), this.host, 'Systems');
    this.#system = pickSystem(members, this.#cfg.systemId, this.host);
    return this.#system;
  }

  /** Forgets the discovered system (it moved, or the BMC was reset). */
  forgetSystem(): void {
    this.#system = undefined;
    this.#root = undefined;
  }

  /** Deletes the session on the BMC (best effort, bounded by `signal`). */
  async logout(signal: AbortSignal): Promise<void> {
    const pending = this.#auth;
    this.#auth = undefined;
    const auth = await pending?.catch(() => undefined);
    if (auth?.kind !== 'session' || !auth.path) return;
    try {
      await this.#send(
        { method: 'DELETE', path: auth.path, what: 'logout', signal, accept: [401, 404] },
        authHeaders(auth, this.#cfg.account),
      );
    } catch (err) {
      this.#cfg.logger.debug('redfish logout failed', { host: this.host, error: (err as Error).message });
    }
  }

  /** The parsed body of an answer that must have one. */
  #need(a: BmcAnswer, what: string): JsonObject {
    if (!a.doc) throw new ProtocolError(this.host, `${what}: empty answer`);
    return a.doc;
  }

  /**
   * The session, shared by concurrent calls. A login runs under the signal of the call that
   * started it: when that call gave up (its abort or deadline, not the BMC's answer), a call
   * still waiting logs in under its own signal instead of failing with another call's reason.
   */
  async #session(signal: AbortSignal): Promise<{ pending: Promise<RedfishAuth>; auth: RedfishAuth }> {
    const pending = this.#login(signal);
    try {
      return { pending, auth: await pending };
    } catch (err) {
      const answered = err instanceof AuthError || err instanceof ProtocolError || err instanceof UnreachableError;
      if (signal.aborted || answered) throw err;
      const again = this.#login(signal);
      return { pending: again, auth: await again };
    }
  }

  #login(signal: AbortSignal): Promise<RedfishAuth> {
    if (!this.#auth) {
      const attempt = this.#createSession(signal);
      this.#auth = attempt;
      // a failed login is not kept: the next call tries again
      attempt.catch(() => {
        if (this.#auth === attempt) this.#auth = undefined;
      });
    }
    return this.#auth;
  }

  async #createSession(signal: AbortSignal): Promise<RedfishAuth> {
    const root = await this.root(signal);
    const path = root.sessions ?? SESSIONS_DEFAULT;
    const a = await this.#send(
      {
        method: 'POST',
        path,
        body: loginBody(this.#cfg.account),
        what: 'session login',
        signal,
        accept: [...NO_SESSIONS, 401, 403],
      },
      {},
    );
    if (a.status === 401 || a.status === 403)
      throw this.#refuse(statusError(this.host, 'session login', a.status, a.doc));
    if (NO_SESSIONS.has(a.status)) {
      if (this.#cfg.basicAuth) return { kind: 'basic' };
      throw statusError(
        this.host,
        'session login (the service has no sessions; enable basicAuth to use HTTP Basic)',
        a.status,
        a.doc,
      );
    }
    const token = a.headers['x-auth-token'];
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096)
      throw new ProtocolError(this.host, 'session login: no X-Auth-Token');
    const where = a.headers.location ?? a.doc?.['@odata.id'];
    return { kind: 'session', token, ...(where ? { path: toRequestPath(where, this.host, 'session Location') } : {}) };
  }

  async #send(req: BmcRequest, auth: Record<string, string>, extra: readonly number[] = []): Promise<BmcAnswer> {
    for (let attempt = 0; ; attempt++) {
      const a = await httpsCall(this.#cfg.endpoint, {
        method: req.method,
        path: req.path,
        body: req.body,
        headers: { ...req.headers, ...auth },
        signal: req.signal,
      });
      const ok = a.status >= 200 && a.status < 300;
      // an error's body only adds detail: a broken one does not hide the status
      const doc =
        a.body.length === 0 ? undefined : ok ? parseRedfishJson(a.body, this.host, req.what) : lenient(a.body);
      const answer: BmcAnswer = doc
        ? { status: a.status, headers: a.headers, doc }
        : { status: a.status, headers: a.headers };
      if (a.status === 503 && attempt < this.#cfg.busyRetries) {
        await delay(this.#cfg.clock, retryAfterMs(a.headers), req.signal);
        continue;
      }
      if (ok || req.accept?.includes(a.status) || extra.includes(a.status)) return answer;
      throw statusError(this.host, req.what, a.status, doc);
    }
  }
}

function lenient(body: Buffer): JsonObject | undefined {
  try {
    return parseRedfishJson(body, '', '');
  } catch {
    return undefined;
  }
}

function pickSystem(members: readonly string[], systemId: string | undefined, host: string): string {
  if (systemId === undefined) {
    if (members.length === 1) return members[0]!;
    throw new ProtocolError(
      host,
      `Systems has ${members.length} members (${members.slice(0, 8).join(', ')}): set the systemId option`,
    );
  }
  const found = members.find((m) => m.replace(/\/+$/, '').split('/').pop() === systemId);
  if (!found)
    throw new ProtocolError(
      host,
      `system ${JSON.stringify(systemId)} is not among Systems (${members.slice(0, 8).join(', ')})`,
    );
  return found;
}
