import { isIP } from 'node:net';
import { ConfigError, type Secret } from '@hafence/core';
import type { OperatorAuth } from '@hafence/operator';
import { loadApiTokenFile } from '../secrets/api-token-file.js';
import { loadCertAndKey, loadCertFile } from '../secrets/tls-files.js';

/** The `--http…` flags of `hafence serve` as given. */
export interface ServeHttpFlags {
  /** `--http <addr:port>`. */
  readonly http?: string;
  readonly httpTokenFile?: string;
  readonly httpTlsCert?: string;
  readonly httpTlsKey?: string;
  readonly httpTlsCa?: string;
}

/** The operator API's settings, checked and with every file read. */
export interface ServeHttpSettings {
  readonly host: string;
  readonly port: number;
  readonly auth: OperatorAuth;
  /** `--http-token-file` as given: re-read on SIGHUP. */
  readonly tokenFile?: string;
}

/**
 * Checks the `--http…` flags and reads their files: undefined without `--http` (no other
 * `--http-…` flag allowed then). `--http` needs `ADDR:PORT` (`[v6]:PORT` for IPv6), a way
 * to authenticate (`--http-token-file` and/or `--http-tls-ca`), TLS (`--http-tls-cert` and
 * `--http-tls-key`) unless the address is loopback, and `--http-tls-ca` needs TLS. Every
 * problem is a `ConfigError` naming the flag (exit 2); no secret is in a message.
 */
export function serveHttpSettings(flags: ServeHttpFlags): ServeHttpSettings | undefined {
  if (flags.http === undefined) {
    const stray = (['httpTokenFile', 'httpTlsCert', 'httpTlsKey', 'httpTlsCa'] as const).find(
      (k) => flags[k] !== undefined,
    );
    if (stray) throw usage(flagName(stray), flags[stray], 'needs --http <addr:port>');
    return undefined;
  }
  const { host, port } = parseListen(flags.http);
  if ((flags.httpTlsCert === undefined) !== (flags.httpTlsKey === undefined))
    throw usage(
      flags.httpTlsCert === undefined ? '--http-tls-cert' : '--http-tls-key',
      undefined,
      'required: --http-tls-cert and --http-tls-key go together',
    );
  const tlsFiles = flags.httpTlsCert !== undefined && flags.httpTlsKey !== undefined;
  if (flags.httpTokenFile === undefined && flags.httpTlsCa === undefined)
    throw usage(
      '--http-token-file',
      undefined,
      'required with --http (or --http-tls-ca): the API needs authentication',
    );
  if (flags.httpTlsCa !== undefined && !tlsFiles)
    throw usage('--http-tls-ca', flags.httpTlsCa, 'client certificates need --http-tls-cert and --http-tls-key');
  if (!tlsFiles && !isLoopback(host))
    throw usage('--http', flags.http, 'a non-loopback address needs --http-tls-cert and --http-tls-key (TLS)');
  const tokens =
    flags.httpTokenFile === undefined ? undefined : loadApiTokenFile(flags.httpTokenFile, '--http-token-file');
  let tls: { cert: string; key: Secret; clientCa?: string } | undefined;
  if (tlsFiles) {
    tls = loadCertAndKey(flags.httpTlsCert!, '--http-tls-cert', flags.httpTlsKey!, '--http-tls-key');
    if (flags.httpTlsCa !== undefined) tls = { ...tls, clientCa: loadCertFile(flags.httpTlsCa, '--http-tls-ca') };
  }
  return {
    host,
    port,
    auth: { ...(tokens ? { tokens } : {}), ...(tls ? { tls } : {}) },
    ...(flags.httpTokenFile !== undefined ? { tokenFile: flags.httpTokenFile } : {}),
  };
}

/** `ADDR:PORT` or `[IPv6]:PORT` → host and port; a ConfigError naming `--http` otherwise. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk =
    host !== undefined && (m?.[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || host === 'localhost');
  if (!m || !hostOk || !(port >= 1 && port <= 65_535))
    throw usage('--http', value, 'must be ADDR:PORT: an IPv4 address, [IPv6] or localhost, and a port 1-65535');
  return { host, port };
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function usage(path: string, value: unknown, rule: string): ConfigError {
  return new ConfigError([{ path, value, rule }]);
}
