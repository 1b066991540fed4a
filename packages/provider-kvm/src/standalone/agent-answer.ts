import { ProtocolError } from '@hafence/core';

/** Longest answer head (status line and headers) read, in bytes; the trailer has the same bound. */
export const MAX_ANSWER_HEAD = 16 * 1024;

/** An agent's answer: status and body text. */
export interface WireAnswer {
  readonly status: number;
  readonly text: string;
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
