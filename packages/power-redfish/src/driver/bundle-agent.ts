import { X509Certificate } from 'node:crypto';
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, type TLSSocket } from 'node:tls';

/**
 * The verification failures of a certificate OpenSSL could not chain to the bundle. OpenSSL
 * looks an issuer up by subject: of several self-signed certificates with one subject (a
 * vendor's default), it only ever tries the first. Only these are looked at again.
 */
const NOT_FOUND_IN_BUNDLE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** The certificates of a PEM bundle (those that do not parse are left to OpenSSL). */
export function bundleCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      certs.push(new X509Certificate(b));
    } catch {
      // not a certificate OpenSSL would use either
    }
  }
  return certs;
}

/** Whether two or more certificates of the bundle share a subject (OpenSSL finds only the first of them). */
export function hasSameSubjects(certs: readonly X509Certificate[]): boolean {
  return new Set(certs.map((c) => c.subject)).size < certs.length;
}

/**
 * A kept-alive HTTPS agent for a CA bundle whose certificates share subjects. OpenSSL checks
 * the chain first, as usual; a peer it could not chain is accepted only when its certificate
 * is byte for byte one of the bundle, valid now, and names the host (the hostname check).
 * The socket reaches the request only after that decision: no request byte is sent to a
 * peer that is refused.
 */
export class BundleAgent extends Agent {
  readonly #trusted: ReadonlySet<string>;
  readonly #now: () => number;
  readonly #pending = new Set<TLSSocket>();

  /** Creates the agent for `ca` (PEM bundle); `now` is the clock of the validity check. */
  constructor(options: AgentOptions & { ca: string }, now: () => number) {
    super({ ...options, rejectUnauthorized: false });
    this.#trusted = new Set(bundleCertificates(options.ca).map((c) => c.raw.toString('base64')));
    this.#now = now;
  }

  /** Opens the TLS connection and hands it over only once the peer is decided trusted. */
  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options) as TLSSocket;
    this.#pending.add(socket);
    const done = (err: Error | null) => {
      this.#pending.delete(socket);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    const onError = (err: Error) => done(err);
    const onSecure = () => done(this.#refusal(socket, options));
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    return undefined;
  }

  /** Closes every socket, the ones still being decided too. */
  override destroy(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
    super.destroy();
  }

  /** Why the peer is refused, or null when it is trusted. */
  #refusal(socket: TLSSocket, options: RequestOptions): Error | null {
    if (socket.authorized) return null;
    const code = String(socket.authorizationError ?? 'CERT_UNTRUSTED');
    const refused = Object.assign(new Error(`TLS certificate not trusted (${code})`), { code });
    if (!NOT_FOUND_IN_BUNDLE.has(code)) return refused;
    const peer = socket.getPeerCertificate(true);
    if (!peer?.raw || !this.#trusted.has(peer.raw.toString('base64'))) return refused;
    const cert = new X509Certificate(peer.raw);
    const now = this.#now();
    if (now < Date.parse(cert.validFrom))
      return Object.assign(new Error('not yet valid'), { code: 'CERT_NOT_YET_VALID' });
    if (now > Date.parse(cert.validTo)) return Object.assign(new Error('expired'), { code: 'CERT_HAS_EXPIRED' });
    const host = (options as { servername?: string }).servername || options.host || options.hostname || '';
    return checkServerIdentity(host, peer) ?? null;
  }
}
