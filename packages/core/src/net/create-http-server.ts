import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Secret } from '../spi/secret.js';

/** The TLS side of {@link createHttpServer}. */
export interface HttpServerTls {
  /** PEM certificate chain. */
  readonly cert: string | Buffer;
  /** Its PEM private key. */
  readonly key: Secret;
  /** PEM CA: when given, clients must present a certificate it signed. */
  readonly clientCa?: string | Buffer;
}

/** Header and request deadlines of every hafence HTTP server: a slow client cannot hold a socket. */
export const HTTP_SERVER_TIMEOUTS = {
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;

/**
 * The HTTP(S) server of the host agent and of the operator API: the deadlines of {@link HTTP_SERVER_TIMEOUTS}, TLS 1.2
 * or later with a 5 s handshake, client certificates required when `tls.clientCa` is given, and at most
 * `maxHeadersCount` headers. The caller adds its connection guard.
 */
export function createHttpServer(
  tls: HttpServerTls | undefined,
  maxHeadersCount: number,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server: Server = tls
    ? createTlsServer(
        {
          ...HTTP_SERVER_TIMEOUTS,
          handshakeTimeout: 5_000,
          minVersion: 'TLSv1.2',
          cert: tls.cert,
          key: tls.key.reveal(),
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        listener,
      )
    : createServer(HTTP_SERVER_TIMEOUTS, listener);
  server.maxHeadersCount = maxHeadersCount;
  return server;
}
