import { closeSync, fstatSync, openSync, readSync, constants as fsConstants, type Stats } from 'node:fs';
import { ConfigError } from '../errors/engine-errors.js';

/** How {@link readRegularFile} names the file in its errors and what else it checks. */
export interface RegularFileRule {
  /** The option or field that named the file (the `path` of the `ConfigError`). */
  readonly path: string;
  /** The value shown in errors (default the file name). */
  readonly value?: unknown;
  /** Largest size accepted. */
  readonly maxBytes: number;
  /** A further check of the file's status (a secret file's mode); returns the broken rule and value. */
  readonly check?: (st: Stats) => { readonly rule: string; readonly value?: unknown } | undefined;
}

/**
 * Reads a small configuration file (a secret, a CA bundle, a targets list) without ever
 * blocking on it: it is opened non-blocking, and anything but a regular file (a FIFO,
 * `/dev/zero`, a directory) is refused before a byte is read, as is a file over `maxBytes`.
 * Every failure is a `ConfigError` naming `rule.path` and the file, never its content.
 *
 * @example
 * const pem = readRegularFile('/etc/hafence/bmc-ca.pem', { path: 'caFile', maxBytes: 1 << 20 });
 */
export function readRegularFile(file: string, rule: RegularFileRule): Buffer {
  const value = 'value' in rule ? rule.value : file;
  const issue = (text: string, v: unknown = value) => new ConfigError([{ path: rule.path, value: v, rule: text }]);
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw issue(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw issue('must be a regular file');
    const broken = rule.check?.(st);
    if (broken) throw issue(broken.rule, broken.value ?? value);
    if (st.size > rule.maxBytes) throw issue(`is larger than ${rule.maxBytes} bytes`, `${st.size} bytes`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw issue(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}
