import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AuthError,
  ConfigError,
  NotFoundError,
  ProtocolError,
  TimeoutError,
  UnreachableError,
  systemClock,
  type Clock,
  type Secret,
} from '@hafence/core';

/**
 * The largest answer read of each route, so that a server that never stops answering fails
 * fast, in bounded memory. The resource list of 100,000 hosts (about 600 bytes each, at most
 * about 1,300 with long operator reasons) fits 128 MiB; 25,000 partitions fit 16 MiB; the server
 * info and one resource's detail (at most 20 transitions) are a few KiB, 1 MiB is ample.
 */
const MAX_RESOURCES_BYTES = 128 * 1024 * 1024;
const MAX_PARTITIONS_BYTES = 16 * 1024 * 1024;
const MAX_OTHER_BYTES = 1024 * 1024;

/** The bound of the answer of `pathname` (a path under the base URL). */
function maxAnswerBytes(pathname: string): number {
  if (/\/api\/v1\/resources\/?$/.test(pathname)) return MAX_RESOURCES_BYTES;
  if (/\/api\/v1\/partitions\/?$/.test(pathname)) return MAX_PARTITIONS_BYTES;
  return MAX_OTHER_BYTES;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Base URL of `hafence serve --http` (`http://127.0.0.1:9440`). */
  readonly url: string;
  /** Sent as `Authorization: Bearer`; never in a URL, message or log. */
  readonly token?: Secret;
  /** PEM CA that verifies an `https://` server (the system's CAs without it). */
  readonly ca?: string;
  /** Longest wait for one whole answer (ms). */
  readonly timeoutMs: number;
  readonly clock?: Clock;
}

/**
 * A read-only client of the operator API of `hafence serve --http`. Failures are typed as
 * `hafence power`'s: {@link AuthError} for 401/403, {@link UnreachableError} or
 * {@link TimeoutError} when no answer comes, {@link ProtocolError} for an answer that is
 * not the API's JSON, {@link NotFoundError} for a 404.
 *
 * @example
 * const api = new ApiClient({ url: 'http://127.0.0.1:9440', token, timeoutMs: 5_000 });
 * const server = await api.get('/api/v1/server');
 */
export class ApiClient {
  private readonly base: URL;
  /** The requests under way: {@link ApiClient.close} aborts them. */
  private readonly pending = new Set<AbortController>();

  /** Checks the URL (http or https, no credentials, no query): a bad one is a {@link ConfigError} on `--url`. */
  constructor(private readonly options: ApiClientOptions) {
    this.base = parseBaseUrl(options.url);
  }

  /** `GET path`: the parsed JSON answer of a 2xx. */
  async get(path: string): Promise<unknown> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const clock = this.options.clock ?? systemClock;
    const controller = new AbortController();
    this.pending.add(controller);
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const where = this.base.host;
    try {
      const { status, type, text } = await this.exchange(url, controller.signal);
      if (status === 401 || status === 403)
        throw new AuthError(where, 'operator-api', status === 401 ? 'token refused (401)' : `not allowed (${status})`);
      if (status === 404) throw new NotFoundError('API path', url.pathname);
      if (status < 200 || status > 299) throw new ProtocolError(where, `HTTP ${status} from ${url.pathname}`);
      if (!/^application\/json\b/i.test(type))
        throw new ProtocolError(where, `${url.pathname} answered ${type || 'no content type'}, not JSON`);
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new ProtocolError(where, `the answer of ${url.pathname} is not JSON`, { cause: err });
      }
    } catch (err) {
      if (err instanceof AuthError || err instanceof ProtocolError || err instanceof NotFoundError) throw err;
      if (timedOut) throw new TimeoutError(`GET ${url.pathname}`, this.options.timeoutMs, where);
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && /CERT|ISSUER|SIGNATURE|ALTNAME/.test(code) && !code.startsWith('ERR_SSL_'))
        throw new AuthError(where, 'operator-api', `TLS: the server certificate was not verified (${code})`);
      if (typeof code === 'string' && code.startsWith('ERR_SSL_'))
        throw new ProtocolError(where, `TLS handshake failed (${code})`);
      throw new UnreachableError(where, this.base.origin, (err as Error).message, { cause: err });
    } finally {
      clock.clearTimeout(timer);
      this.pending.delete(controller);
    }
  }

  /**
   * Aborts every request under way (their `get` rejects): once one answer failed, the others
   * are not read on (a hostile server may answer each without end).
   */
  close(): void {
    for (const controller of this.pending) controller.abort();
    this.pending.clear();
  }

  private exchange(url: URL, signal: AbortSignal): Promise<{ status: number; type: string; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token.reveal()}`;
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const type = String(res.headers['content-type'] ?? '');
        // Only a 2xx JSON answer is read: a refusal, an error or a page that is not JSON is
        // judged by its status line and headers, its body (maybe without end) never read.
        if (status < 200 || status > 299 || !/^application\/json\b/i.test(type)) {
          resolve({ status, type, text: '' });
          res.destroy();
          return;
        }
        const max = maxAnswerBytes(url.pathname);
        const tooLong = () =>
          new ProtocolError(this.base.host, `the answer of ${url.pathname} is longer than ${max} bytes`);
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > max) {
          reject(tooLong()); // before destroy(): it rejects too
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            reject(tooLong()); // before destroy(): it rejects too
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, type, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('answer cut short')));
      };
      const req =
        url.protocol === 'https:'
          ? httpsRequest(
              url,
              { method: 'GET', headers, signal, ca: this.options.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
              onResponse,
            )
          : httpRequest(url, { method: 'GET', headers, signal }, onResponse);
      req.on('error', reject);
      req.end();
    });
  }
}

function parseBaseUrl(text: string): URL {
  const fail = (rule: string): never => {
    // A URL with a password inside is never echoed.
    const shown = /\/\/[^/]*@/.test(text) ? '[not shown]' : text;
    throw new ConfigError([{ path: '--url', value: shown, rule }]);
  };
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    fail('must be a URL like http://127.0.0.1:9440');
  }
  if (url!.protocol !== 'http:' && url!.protocol !== 'https:') fail('must be an http:// or https:// URL');
  if (url!.username !== '' || url!.password !== '') fail('must not carry credentials: give --token-file');
  if (url!.search !== '' || url!.hash !== '') fail('must not carry ?query or #fragment');
  return new URL(url!.pathname.endsWith('/') ? url!.href : `${url!.href}/`);
}
