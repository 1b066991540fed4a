import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AnswerParser, type WireAnswer } from './agent-answer.js';

/**
 * A small HTTP/1.1 client for the management server's requests to agents: one persistent connection per agent,
 * one request on it at a time, the answer parsed from the socket's bytes. A health check every 10 s on thousands of
 * hosts spent most of its time in `node:http` (a request, an answer stream, header objects and agent bookkeeping per
 * check); here a check is one write and a parse of one or two chunks.
 *
 * It reads what an agent (or anything answering in its place) can send: `Content-Length` or chunked bodies, a body
 * ending at close, interim 1xx answers. Anything else is a `ProtocolError`: a head over 16 KiB, a malformed status
 * line or header, conflicting lengths, an unknown transfer coding, a body over the caller's cap.
 */

/**
 * Connections open at once to one agent; more requests wait for one. The agent refuses connections beyond its own
 * per-address limit (16), so a burst of requests must not open more than that.
 */
export const MAX_CONNECTIONS_PER_AGENT = 8;

/** Where and how to connect: the agent's origin, TLS settings for `https:`, and the idle time of a kept connection. */
export interface WireTarget {
  readonly url: URL;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Identity of the TLS settings, 0 for `http:` (a connection verified under one CA is never reused under another). */
  readonly tlsKey: number;
  readonly idleMs: number;
  /** Open a new connection even if one is idle (the retry after a stale one). */
  readonly fresh: boolean;
}

/** One request: method, path with query, headers (already checked), body. */
export interface WireRequest {
  readonly method: string;
  readonly head: string;
  readonly body: string | undefined;
  /** Largest body read. */
  readonly max: number;
  readonly signal: AbortSignal;
  /** Names the agent in errors. */
  readonly host: string;
  /** Names the request in errors. */
  readonly path: string;
}

/** A kept connection failed before any byte of the answer: the agent had closed it (the error is the cause). */
export class StaleConnection extends Error {}

/** A request with its caller's promise: running on a connection, or waiting for one. */
class Exchange {
  readonly parser: AnswerParser;
  onAbort: (() => void) | undefined;

  constructor(
    readonly target: WireTarget,
    readonly req: WireRequest,
    readonly resolve: (a: WireAnswer) => void,
    readonly reject: (e: Error) => void,
  ) {
    this.parser = new AnswerParser(req.host, `answer of ${req.path}`, req.method, req.max);
  }
}

/**
 * The connections to one agent (one origin; TLS settings and idle times may differ between its connections): the
 * idle ones, how many are open, who waits. Idle connections exist only while nobody waits.
 */
class Agent {
  readonly idle: Connection[] = [];
  open = 0;
  readonly waiting: Exchange[] = [];

  constructor(readonly key: string) {}

  /** Runs `ex` on a fitting idle connection, a new one, or queues it until one is free. */
  take(ex: Exchange): void {
    const fit = ex.target.fresh ? -1 : this.idleFitting(ex.target.tlsKey);
    if (fit >= 0) {
      this.idle.splice(fit, 1)[0]!.start(ex);
      return;
    }
    if (this.open < MAX_CONNECTIONS_PER_AGENT) {
      this.open++;
      agents.set(this.key, this); // it may have left the map when its last connection closed
      new Connection(this, ex.target).start(ex);
      return;
    }
    if (this.idle.length > 0) {
      // At the limit, with idle connections that do not fit (other TLS settings, or a retry that needs a new one):
      // the oldest makes room. Nobody waits while a connection is idle, so the room is this request's.
      this.idle.shift()!.close();
      this.take(ex);
      return;
    }
    this.waiting.push(ex);
    ex.onAbort = () => {
      const at = this.waiting.indexOf(ex);
      if (at >= 0) this.waiting.splice(at, 1);
      ex.reject(abortError(ex.req.signal));
    };
    ex.req.signal.addEventListener('abort', ex.onAbort, { once: true });
  }

  /** `conn` ended its request and can carry another: the next waiting one, or it is kept idle. */
  released(conn: Connection): void {
    const next = this.waiting[0];
    if (next === undefined) {
      this.idle.push(conn);
      conn.idle();
    } else if (!next.target.fresh && next.target.tlsKey === conn.tlsKey) conn.start(this.nextWaiting()!);
    else conn.close(); // the next request needs another connection: this one's place goes to it (closed())
  }

  /** `conn` was closed: its place goes to the next waiting request. */
  closed(conn: Connection): void {
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    this.open--;
    const next = this.nextWaiting();
    if (next !== undefined) this.take(next);
    else if (this.open === 0 && agents.get(this.key) === this) agents.delete(this.key);
  }

  /** The newest idle connection made with TLS settings `tlsKey`, or -1. */
  private idleFitting(tlsKey: number): number {
    for (let i = this.idle.length - 1; i >= 0; i--) if (this.idle[i]!.tlsKey === tlsKey) return i;
    return -1;
  }

  private nextWaiting(): Exchange | undefined {
    const next = this.waiting.shift();
    if (next?.onAbort) next.req.signal.removeEventListener('abort', next.onAbort);
    if (next) next.onAbort = undefined;
    return next;
  }
}

const agents = new Map<string, Agent>();

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * Closes every idle connection to agents (a connection carrying a request is left to end). Kept connections never
 * keep a process alive; this is for a caller that wants them gone now, e.g. before closing an agent server it runs.
 */
export function closeIdleAgentConnections(): void {
  for (const agent of [...agents.values()]) for (const conn of [...agent.idle]) conn.close();
}

/** Sends `req` to `target` and resolves with its answer; rejects with the socket's error or a `ProtocolError`. */
export function wireExchange(target: WireTarget, req: WireRequest): Promise<WireAnswer> {
  return new Promise<WireAnswer>((resolve, reject) => {
    if (req.signal.aborted) {
      reject(abortError(req.signal));
      return;
    }
    // One limit per agent: its origin, whatever the TLS settings or idle time of each request.
    const key = `${target.url.protocol}//${target.url.host}`;
    let agent = agents.get(key);
    if (agent === undefined) agents.set(key, (agent = new Agent(key)));
    agent.take(new Exchange(target, req, resolve, reject));
  });
}

/** One connection to an agent: a socket with its listeners for life, and the exchange running on it. */
class Connection {
  private readonly socket: Socket;
  private exchange: Exchange | undefined;
  /** Answers completed on it: a failure before any byte on a reused connection is a stale connection. */
  private served = 0;
  /** The socket ended or failed (no request can go out on it any more). */
  private ended = false;
  /** Closed and given back to its agent (once). */
  private gone = false;

  /** The TLS settings it was made with (a request with others never reuses it). */
  readonly tlsKey: number;
  /** Idle time of the request it carried last. */
  private idleMs: number;

  constructor(
    private readonly agent: Agent,
    target: WireTarget,
  ) {
    this.tlsKey = target.tlsKey;
    this.idleMs = target.idleMs;
    const { url, tls } = target;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    this.socket =
      url.protocol === 'https:'
        ? tlsConnect({
            host: hostname,
            port,
            ...(isIP(hostname) ? {} : { servername: hostname }),
            ca: tls?.ca,
            cert: tls?.cert,
            key: tls?.key,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2',
          })
        : netConnect({ host: hostname, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onClose(undefined));
    this.socket.on('close', () => this.onClose(undefined));
    this.socket.on('error', (err: Error) => this.onClose(err));
    this.socket.on('timeout', () => this.close()); // idle too long (set only while idle)
  }

  /** Sends `ex`'s request on this connection. */
  start(ex: Exchange): void {
    const req = ex.req;
    if (req.signal.aborted) {
      ex.reject(abortError(req.signal));
      this.agent.released(this);
      return;
    }
    this.exchange = ex;
    this.idleMs = ex.target.idleMs;
    ex.onAbort = () => this.fail(abortError(req.signal));
    req.signal.addEventListener('abort', ex.onAbort, { once: true });
    this.socket.setTimeout(0);
    this.socket.ref();
    if (this.ended) {
      const hangUp = new Error('socket hang up');
      this.fail(this.served > 0 ? new StaleConnection('stale connection', { cause: hangUp }) : hangUp);
      return;
    }
    this.socket.write(req.body === undefined ? req.head : req.head + req.body);
  }

  /** Kept for the next request: unref'd (an idle connection never keeps a process alive), closed when idle too long. */
  idle(): void {
    this.socket.setTimeout(this.idleMs);
    this.socket.unref();
  }

  /** Closes the connection if it is idle. */
  close(): void {
    if (this.exchange === undefined) this.drop();
  }

  private onData(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined) {
      this.drop(); // bytes nobody asked for: the connection cannot be trusted to frame the next answer
      return;
    }
    let result: WireAnswer | undefined;
    try {
      result = ex.parser.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (result !== undefined) this.done(ex, result);
  }

  private onClose(err: Error | undefined): void {
    this.ended = true;
    const ex = this.exchange;
    if (ex === undefined) {
      this.drop();
      return;
    }
    const atClose = err === undefined ? ex.parser.end() : undefined;
    if (atClose !== undefined) {
      this.done(ex, atClose);
      return;
    }
    const stale = this.served > 0 && !ex.parser.received && (err === undefined || isResetCode(err));
    const cause = err ?? new Error('socket hang up');
    this.fail(stale ? new StaleConnection('stale connection', { cause }) : cause);
  }

  private done(ex: Exchange, answer: WireAnswer): void {
    this.finish(ex);
    this.served++;
    ex.resolve(answer);
    if (this.ended || !ex.parser.reusable) this.drop();
    else this.agent.released(this);
  }

  private fail(err: Error): void {
    const ex = this.exchange;
    if (ex !== undefined) this.finish(ex);
    this.drop();
    ex?.reject(err);
  }

  private finish(ex: Exchange): void {
    this.exchange = undefined;
    if (ex.onAbort) ex.req.signal.removeEventListener('abort', ex.onAbort);
    ex.onAbort = undefined;
  }

  /** Closes the connection for good and gives its place back. */
  private drop(): void {
    this.ended = true;
    this.socket.destroy();
    if (this.gone) return;
    this.gone = true;
    this.agent.closed(this);
  }
}

function isResetCode(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
