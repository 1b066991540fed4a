import { readFileSync } from 'node:fs';
import { ConfigError } from '@hafence/core';
import { addressRule, decodeUtf8, hasControlChars } from '@hafence/core/internal';

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

/** Reads a targets file: one `host[:port]` a line; blank lines and `#` comments are ignored. */
export function readTargetsFile(file: string): CliTarget[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ConfigError([
      { path: '--targets', value: file, rule: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
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
