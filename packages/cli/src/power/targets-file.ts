import { ConfigError } from '@hafence/core';
import { addressRule, decodeUtf8, hasControlChars, readRegularFile } from '@hafence/core/internal';

/** The largest targets file read (a line per BMC: tens of thousands of lines fit). */
const MAX_TARGETS_FILE_BYTES = 1024 * 1024;

/** One BMC from `--host`/`--port` or a `--targets` line. */
export interface CliTarget {
  readonly address: string;
  readonly port?: number;
}

/** Parses `host`, `host:port` or `[v6addr]:port`. */
export function parseTarget(text: string, where = '--host'): CliTarget {
  const s = text.trim();
  if (hasControlChars(s))
    throw new ConfigError([{ path: where, value: s, rule: 'must not contain control characters' }]);
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const plain = /^([^:\s]+)(?::(\d+))?$/.exec(s);
  const m = v6 ?? plain;
  if (!m) throw new ConfigError([{ path: where, value: s, rule: 'must be host or host:port' }]);
  const [, address = '', portText] = m;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new ConfigError([{ path: where, value: s, rule: 'port must be 1-65535' }]);
  const bad = addressRule(address);
  if (bad) throw new ConfigError([{ path: where, value: s, rule: bad }]);
  return { address, port };
}

/**
 * Reads a targets file: one `host[:port]` a line; blank lines and `#` comments are ignored. It must
 * be a regular file of at most 1 MiB (a FIFO or a device is a `ConfigError`, never a hang).
 */
export function readTargetsFile(file: string): CliTarget[] {
  // a FIFO or a device is refused without blocking on it
  const bytes = readRegularFile(file, { path: '--targets', maxBytes: MAX_TARGETS_FILE_BYTES });
  const text = decodeUtf8(bytes, '--targets', file);
  const targets = text
    .split(/\r?\n/)
    .map((l, i) => [l.replace(/#.*/, '').trim(), i + 1] as const)
    .filter(([l]) => l !== '')
    .map(([l, n]) => parseTarget(l, `${file}:${n}`));
  if (targets.length === 0) throw new ConfigError([{ path: '--targets', value: file, rule: 'lists no target' }]);
  return targets;
}

/** `host:port` (or just `host`) for output lines. */
export function formatTarget(t: CliTarget): string {
  const host = t.address.includes(':') ? `[${t.address}]` : t.address;
  return t.port === undefined ? host : `${host}:${t.port}`;
}
