import { ConfigError } from '@hafence/core';

/** The IPMI cipher suite hafence asks for unless told otherwise (docs/behaviour.md#power: HMAC-SHA256, AES-CBC-128). */
export const DEFAULT_CIPHER_SUITE = 17;

/**
 * Validates a cipher suite: an integer 0–17; suite 0 (no authentication, no integrity)
 * is refused unless `allowZero` (docs/behaviour.md#power: only when explicitly allowed per host).
 */
export function checkCipherSuite(value: unknown, allowZero: boolean, path = 'cipher'): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 17) {
    throw new ConfigError([{ path, value, rule: 'must be an IPMI cipher suite 0-17' }]);
  }
  if (n === 0 && !allowZero) {
    throw new ConfigError([
      {
        path,
        value,
        rule: 'cipher suite 0 sends commands without authentication; refused unless allowCipherZero is set for this host',
      },
    ]);
  }
  return n;
}
