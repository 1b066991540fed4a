import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Secret } from '@hafence/core';

/** One operator allowed to call the API: the NAME recorded as `by` in audits, and its bearer token. */
export interface TokenIdentity {
  /** `[A-Za-z0-9._@-]{1,64}`: who asked, in `operator.action` events. */
  readonly name: string;
  readonly token: Secret;
}

/** Why a request was refused (for the rate-limited log line; never the presented secret). */
export type AuthRefusal = 'missing credentials' | 'wrong credentials' | 'no client certificate';

/** The outcome of {@link Authenticator.identify}. */
export type AuthOutcome =
  | { readonly ok: true; readonly identity: string }
  | { readonly ok: false; readonly why: AuthRefusal };

/**
 * Checks a request's credentials against the token identities and/or the TLS client
 * certificate. With tokens, a request needs `Authorization: Bearer TOKEN` or
 * `Authorization: Basic base64(NAME:TOKEN)`; the identity is the token's NAME. With client
 * certificates only, the identity is the certificate's CN (the TLS layer already refused
 * a certificate its CA did not sign). With both, both are required and the NAME is the
 * identity. Tokens are compared in constant time on their SHA-256 hashes, against every
 * identity (no early exit).
 */
export class Authenticator {
  private hashes: ReadonlyArray<{ readonly name: string; readonly hash: Buffer }>;

  /** Hashes the tokens once; `clientCert`: identities come from client certificates. */
  constructor(
    tokens: readonly TokenIdentity[],
    private readonly clientCert: boolean,
  ) {
    this.hashes = hashAll(tokens);
  }

  /**
   * Replaces the token identities (a re-read token file): requests from now on are checked
   * against `tokens` only. An authenticator with tokens cannot be left without any.
   */
  setTokens(tokens: readonly TokenIdentity[]): void {
    if (tokens.length === 0 && this.hashes.length > 0) throw new RangeError('no token identity left');
    if (tokens.length > 0 && this.hashes.length === 0) throw new RangeError('started without token identities');
    this.hashes = hashAll(tokens);
  }

  /** Who sent `req`, or why it was refused. */
  identify(req: IncomingMessage): AuthOutcome {
    const cn = this.clientCert ? certificateName(req) : undefined;
    if (this.clientCert && cn === undefined) return { ok: false, why: 'no client certificate' };
    if (this.hashes.length === 0) return { ok: true, identity: cn! };
    const presented = parseAuthorization(req.headers.authorization);
    if (!presented) return { ok: false, why: 'missing credentials' };
    const name = this.match(presented);
    return name === undefined ? { ok: false, why: 'wrong credentials' } : { ok: true, identity: name };
  }

  private match(presented: { name?: string; token: string }): string | undefined {
    const hash = sha256(presented.token);
    let found: string | undefined;
    for (const id of this.hashes) {
      const same = timingSafeEqual(hash, id.hash);
      if (same && (presented.name === undefined || presented.name === id.name)) found ??= id.name;
    }
    return found;
  }
}

function hashAll(tokens: readonly TokenIdentity[]): Array<{ readonly name: string; readonly hash: Buffer }> {
  return tokens.map((t) => ({ name: t.name, hash: sha256(t.token.reveal()) }));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The token (and, for Basic, the NAME) of an `Authorization` header; undefined when absent or malformed. */
export function parseAuthorization(header: string | undefined): { name?: string; token: string } | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value ? { token: value } : undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { name: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

function certificateName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
