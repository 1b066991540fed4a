import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ProtocolError } from '@hafence/core';

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

/** Longest answer head (status line and headers) read, in bytes. */
export const MAX_ANSWER_HEAD = 16 * 1024;
/**
 * Connections open at once to one agent; more requests wait for one. The agent refuses connections beyond its own
 * per-address limit (16), so a burst of requests must not open more than that.
 */
export const MAX_CONNECTIONS_PER_AGENT = 8;

/** Where and how to connect: the agent's origin, TLS settings for `https:`, and the idle time of a kept connection. */
export interface WireTarget {
  readonly url: URL;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Identity of the TLS settings (a connection verified under one CA is never reused under another). */
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

/** The answer: status and body text. */
export interface WireAnswer {
  readonly status: number;
  readonly text: string;
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

/** The connections to one agent (per TLS settings and idle time): the idle ones, how many are open, who waits. */
class Agent {
  readonly idle: Connection[] = [];
  open = 0;
  readonly waiting: Exchange[] = [];

  constructor(readonly key: string) {}

  /** Runs `ex` on an idle connection, a new one, or queues it until one is free. */
  take(ex: Exchange): void {
    if (!ex.target.fresh && this.idle.length > 0) {
      this.idle.pop()!.start(ex);
      return;
    }
    if (this.open < MAX_CONNECTIONS_PER_AGENT) {
      this.open++;
      agents.set(this.key, this); // it may have left the map when its last connection closed
      new Connection(this, ex.target).start(ex);
      return;
    }
    if (ex.target.fresh && this.idle.length > 0) {
      // At the limit: an idle connection makes room for the new one the retry needs.
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
    const next = this.nextWaiting();
    if (next === undefined) {
      this.idle.push(conn);
      conn.idle();
    } else if (next.target.fresh) {
      conn.close();
      this.take(next);
    } else conn.start(next);
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
    const key = `${target.url.protocol}//${target.url.host}|${target.tlsKey}|${target.idleMs}`;
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

  constructor(
    private readonly agent: Agent,
    private readonly target: WireTarget,
  ) {
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
    this.socket.setTimeout(this.target.idleMs);
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

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const BARE_LF_END = Buffer.from('\n\n');
/** Control characters a head may not hold (but tab; CR and LF only as line ends). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Interim answers (100 Continue, 102 Processing…) read before the answer. */
const MAX_INTERIM = 8;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'close' | 'done';

/**
 * Parses one HTTP/1.1 answer from the bytes of a socket. {@link push} returns the answer once it is whole;
 * {@link end} is asked when the socket closes (a body that runs to the close ends there).
 */
export class AnswerParser {
  /** Some byte of the answer arrived (a failure after that is no stale connection). */
  received = false;
  /** The connection can carry another request after this answer. */
  reusable = true;
  private pending: Buffer = EMPTY;
  private phase: Phase = 'head';
  private status = 0;
  private remaining = 0;
  /** The body so far, in one buffer that grows by doubling (a body of many tiny chunks is not many tiny buffers). */
  private body: Buffer = EMPTY;
  private bodySize = 0;
  /** Bytes read in all (head, interim answers, chunk framing, trailers and body). */
  private total = 0;
  private interim = 0;
  private trailerSize = 0;

  constructor(
    private readonly host: string,
    /** What the errors call the answer (e.g. `answer of /health`). */
    private readonly what: string,
    private readonly method: string,
    private readonly max: number,
  ) {}

  /** Takes the next bytes; the answer when it is whole. */
  push(chunk: Buffer): WireAnswer | undefined {
    if (chunk.length > 0) this.received = true;
    // Framing has a bound of its own besides the body's: chunk extensions, interim answers and trailers count too.
    this.total += chunk.length;
    if (this.total > 2 * this.max + 4 * MAX_ANSWER_HEAD)
      throw this.bad(`answer takes more than ${2 * this.max + 4 * MAX_ANSWER_HEAD} bytes with its framing`);
    if (this.phase === 'done') {
      this.reusable = false;
      return undefined;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const before: Phase = this.phase;
      const left = this.pending.length;
      const answer = this.step();
      if (answer !== undefined) {
        if (this.pending.length > 0) this.reusable = false; // bytes beyond the answer: never reuse the connection
        return answer;
      }
      if (this.phase === before && this.pending.length === left) return undefined; // needs more bytes
    }
  }

  /** The socket closed: the answer if its body ran to the close, else undefined (it was cut short). */
  end(): WireAnswer | undefined {
    if (this.phase !== 'close') return undefined;
    this.phase = 'done';
    return this.answer();
  }

  private step(): WireAnswer | undefined {
    switch (this.phase) {
      case 'head':
        return this.readHead();
      case 'length': {
        const n = Math.min(this.remaining, this.pending.length);
        if (n > 0) this.take(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        this.remaining -= n;
        return this.remaining === 0 ? this.finish() : undefined;
      }
      case 'chunk-size': {
        const eol = this.pending.indexOf(CRLF);
        if (eol < 0) {
          if (this.pending.length > 1024) throw this.bad('a chunk size line is longer than 1 KiB');
          return undefined;
        }
        const line = this.pending.subarray(0, eol).toString('latin1');
        this.pending = this.pending.subarray(eol + 2);
        const size = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) throw this.bad('a chunk size is not hexadecimal');
        this.remaining = parseInt(size[1]!, 16);
        this.phase = this.remaining === 0 ? 'trailer' : 'chunk-data';
        if (this.remaining > 0 && this.bodySize + this.remaining > this.max) throw this.overCap();
        return undefined;
      }
      case 'chunk-data': {
        const n = Math.min(this.remaining, this.pending.length);
        if (n > 0) this.take(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        this.remaining -= n;
        if (this.remaining === 0) this.phase = 'chunk-end';
        return undefined;
      }
      case 'chunk-end': {
        if (this.pending.length < 2) return undefined;
        if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a) throw this.bad('a chunk does not end with CRLF');
        this.pending = this.pending.subarray(2);
        this.phase = 'chunk-size';
        return undefined;
      }
      case 'trailer': {
        // Trailer fields are read past and ignored; an empty line ends the answer.
        const eol = this.pending.indexOf(CRLF);
        if (eol < 0) {
          if (this.pending.length > MAX_ANSWER_HEAD) throw this.bad('the trailer is longer than 16 KiB');
          return undefined;
        }
        this.pending = this.pending.subarray(eol + 2);
        this.trailerSize += eol + 2;
        if (this.trailerSize > MAX_ANSWER_HEAD) throw this.bad('the trailer is longer than 16 KiB');
        return eol === 0 ? this.finish() : undefined;
      }
      case 'close':
        if (this.pending.length > 0) this.take(this.pending);
        this.pending = EMPTY;
        return undefined;
      default:
        return undefined;
    }
  }

  private readHead(): WireAnswer | undefined {
    const end = this.pending.indexOf(HEAD_END);
    if (end < 0) {
      if (this.pending.includes(BARE_LF_END)) throw this.bad('the answer head ends its lines without CR');
      if (this.pending.length > MAX_ANSWER_HEAD)
        throw this.bad(`the answer head is longer than ${MAX_ANSWER_HEAD} bytes`);
      return undefined;
    }
    if (end > MAX_ANSWER_HEAD) throw this.bad(`the answer head is longer than ${MAX_ANSWER_HEAD} bytes`);
    const text = this.pending.subarray(0, end).toString('latin1');
    if (CONTROL.test(text.replaceAll('\r\n', ''))) throw this.bad('the answer head holds a control character');
    const lines = text.split('\r\n');
    this.pending = this.pending.subarray(end + 4);
    const status = STATUS_LINE.exec(lines[0]!);
    if (!status) throw this.bad('the answer does not start with an HTTP/1.x status line');
    const code = Number(status[2]);
    let length: number | undefined;
    let chunked = false;
    let close = status[1] === '0';
    for (const line of lines.slice(1)) {
      const header = HEADER_LINE.exec(line);
      if (!header) throw this.bad('an answer header is malformed');
      const name = header[1]!.toLowerCase();
      const value = header[2]!;
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value)) throw this.bad('Content-Length is not a number');
        const n = Number(value);
        if (length !== undefined && length !== n) throw this.bad('two different Content-Length values');
        length = n;
      } else if (name === 'transfer-encoding') {
        const codings = value
          .toLowerCase()
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        if (codings.length !== 1 || codings[0] !== 'chunked' || chunked)
          throw this.bad(`transfer coding '${value.slice(0, 40)}' is not supported`);
        chunked = true;
      } else if (name === 'connection') {
        const options = value.toLowerCase();
        if (/(^|,)\s*close\s*(,|$)/.test(options)) close = true;
        else if (status[1] === '0' && /(^|,)\s*keep-alive\s*(,|$)/.test(options)) close = false;
      }
    }
    if (code >= 100 && code < 200) {
      if (code === 101) throw this.bad('the agent switched protocols');
      if (++this.interim > MAX_INTERIM) throw this.bad(`more than ${MAX_INTERIM} interim (1xx) answers`);
      return undefined; // an interim answer: the real one follows
    }
    this.status = code;
    this.reusable = !close;
    if (chunked && length !== undefined) throw this.bad('both Content-Length and chunked');
    if (this.method === 'HEAD' || code === 204 || code === 304) return this.finish();
    if (chunked) {
      this.phase = 'chunk-size';
      return undefined;
    }
    if (length !== undefined) {
      if (length > this.max) throw this.bad(`${this.what} declares ${length} bytes, over ${this.max}`);
      this.remaining = length;
      this.body = Buffer.allocUnsafe(length);
      this.phase = 'length';
      return length === 0 ? this.finish() : undefined;
    }
    this.phase = 'close'; // no length: the body runs to the close
    this.reusable = false;
    return undefined;
  }

  private take(bytes: Buffer): void {
    const size = this.bodySize + bytes.length;
    if (size > this.max) throw this.overCap();
    if (size > this.body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.max, Math.max(size, 2 * this.body.length, 256)));
      this.body.copy(grown, 0, 0, this.bodySize);
      this.body = grown;
    }
    bytes.copy(this.body, this.bodySize);
    this.bodySize = size;
  }

  private finish(): WireAnswer {
    this.phase = 'done';
    return this.answer();
  }

  private answer(): WireAnswer {
    return { status: this.status, text: this.body.toString('utf8', 0, this.bodySize) };
  }

  private overCap(): ProtocolError {
    return this.bad(`${this.what} is longer than ${this.max} bytes`);
  }

  private bad(problem: string): ProtocolError {
    return new ProtocolError(this.host, problem.startsWith(this.what) ? problem : `${this.what}: ${problem}`);
  }
}
