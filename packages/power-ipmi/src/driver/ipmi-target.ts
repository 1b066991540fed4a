import { DriverError, Secret, type PowerTarget } from '@hafence/core';
import { Privilege } from '../protocol/commands.js';
import type { IpmiBmc } from '../transport/ipmi-client.js';

/** The `PowerTarget.options` the IPMI driver reads. */
export interface IpmiTargetOptions {
  /** Preferred cipher suite (default 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128). */
  readonly cipherSuite?: number;
  /** Alias of `cipherSuite` (what `hafence power --cipher` sets). */
  readonly cipher?: number;
  /** Suite tried only when the BMC refuses the preferred one (default 3; `null`: none). */
  readonly fallbackCipherSuite?: number | null;
  /** Allow cipher suite 0 (no authentication at all). Default false (docs/behaviour.md#power). */
  readonly allowCipher0?: boolean;
  /** Privilege to log in with: `administrator` (default), `operator` or a level 1–4. */
  readonly privilege?: 'operator' | 'administrator' | number;
  /**
   * Longest idle time (ms) a session with this BMC is reused (default the driver's, 50 s): below the BMC's session
   * inactivity timeout (OpenIPMI's `ipmi_sim`: 30 s).
   */
  readonly sessionIdleMs?: number;
}

function num(v: unknown, what: string, host: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new DriverError('ipmi', host, `option ${what} must be an integer`);
}

function privilegeOf(v: unknown, host: string): number {
  if (v === undefined || v === 'administrator' || v === 'admin') return Privilege.ADMINISTRATOR;
  if (v === 'operator') return Privilege.OPERATOR;
  const n = num(v, 'privilege', host);
  if (n === undefined || n < 1 || n > 4)
    throw new DriverError('ipmi', host, 'option privilege must be operator, administrator or 1-4');
  return n;
}

/**
 * Turns a `PowerTarget` into the client's BMC description, enforcing the cipher
 * policy: 17 first, 3 as the fallback, 0 only when `allowCipher0` is set.
 */
export function toIpmiBmc(target: PowerTarget): IpmiBmc {
  const o = (target.options ?? {}) as Record<string, unknown>;
  const host = target.host;
  const preferred = num(o.cipherSuite, 'cipherSuite', host) ?? num(o.cipher, 'cipher', host) ?? 17;
  const fallback =
    o.fallbackCipherSuite === null ? undefined : (num(o.fallbackCipherSuite, 'fallbackCipherSuite', host) ?? 3);
  const suites = fallback === undefined || fallback === preferred ? [preferred] : [preferred, fallback];
  if (suites.includes(0) && o.allowCipher0 !== true) {
    throw new DriverError('ipmi', host, 'cipher suite 0 (no authentication) is refused unless allowCipher0 is set');
  }
  const sessionIdleMs = num(o.sessionIdleMs, 'sessionIdleMs', host);
  if (sessionIdleMs !== undefined && sessionIdleMs < 1)
    throw new DriverError('ipmi', host, 'option sessionIdleMs must be a positive integer');
  return {
    host,
    address: target.address,
    port: target.port ?? 623,
    username: target.username ?? '',
    password: target.password ?? new Secret(''),
    privilege: privilegeOf(o.privilege, host),
    cipherSuites: suites,
    ...(sessionIdleMs !== undefined ? { sessionIdleMs } : {}),
  };
}
