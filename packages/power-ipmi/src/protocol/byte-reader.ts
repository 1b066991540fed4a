import { MalformedPacketError } from './packet-error.js';

/**
 * A bounds-checked cursor over a datagram: every read past the end throws
 * {@link MalformedPacketError} instead of a `RangeError`.
 */
export class ByteReader {
  #pos: number;

  /** Reads `buf` from `start`. */
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.#pos = start;
  }

  /** Current offset. */
  get pos(): number {
    return this.#pos;
  }

  /** Bytes left. */
  get remaining(): number {
    return this.buf.length - this.#pos;
  }

  #need(n: number, what: string): void {
    if (n < 0 || this.#pos + n > this.buf.length) throw new MalformedPacketError(`truncated ${what}`);
  }

  /** One unsigned byte. */
  u8(what = 'byte'): number {
    this.#need(1, what);
    const v = this.buf.readUInt8(this.#pos);
    this.#pos += 1;
    return v;
  }

  /** Little-endian unsigned 16-bit integer. */
  u16le(what = 'u16'): number {
    this.#need(2, what);
    const v = this.buf.readUInt16LE(this.#pos);
    this.#pos += 2;
    return v;
  }

  /** Little-endian unsigned 32-bit integer. */
  u32le(what = 'u32'): number {
    this.#need(4, what);
    const v = this.buf.readUInt32LE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Big-endian unsigned 32-bit integer. */
  u32be(what = 'u32'): number {
    this.#need(4, what);
    const v = this.buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** `n` bytes (a view, not a copy). */
  bytes(n: number, what = 'bytes'): Buffer {
    this.#need(n, what);
    const v = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  /** Everything left. */
  rest(): Buffer {
    const v = this.buf.subarray(this.#pos);
    this.#pos = this.buf.length;
    return v;
  }
}
