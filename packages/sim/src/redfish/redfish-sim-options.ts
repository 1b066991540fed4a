import { ConfigError, type Clock, type ConfigIssue } from '@hafence/core';
import type { RedfishPowerDelays, SimPowerState } from './redfish-power.js';
import { REDFISH_VARIANTS, type RedfishVariant } from './redfish-variant.js';

/** Options of {@link RedfishSim}. */
export interface RedfishSimOptions {
  /** The one account's user name. */
  readonly username: string;
  /** Its password. */
  readonly password: string;
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port (default 0: ephemeral; read {@link RedfishSim.port}). */
  readonly port?: number;
  /** Vendor shape: system id, allowable reset types, task monitors, ETag requirement (default `generic`). */
  readonly variant?: RedfishVariant;
  /** Accept HTTP Basic authentication (default true); sessions always work. */
  readonly basicAuth?: boolean;
  /** The served certificate and key (default: a self-signed ECDSA certificate made for this instance). */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  /** How long power changes take after the reply. */
  readonly powerDelays?: RedfishPowerDelays;
  /** Power at start (default `On`). */
  readonly initialPower?: SimPowerState;
  /** Idle sessions end after this (default 30 min). */
  readonly sessionTimeoutMs?: number;
  /** Most open sessions (default 16); a login beyond gets 503 with Base `SessionLimitExceeded` (as bmcweb). */
  readonly maxSessions?: number;
  /** Largest request body accepted (default 64 KiB); larger gets 413. */
  readonly maxBodyBytes?: number;
  /** Timers of the power model, delayed replies and sessions (default the system clock). */
  readonly clock?: Clock;
}

/** A misbehaviour {@link RedfishSim.setFault} switches on. */
export interface RedfishSimFault {
  /**
   * `down`: the port refuses connections (open ones are cut); `slow`: every reply waits `delayMs` (default 2000);
   * `wrong-password`: the BMC no longer accepts the password nor any session; `busy-503`: 503 with `Retry-After`
   * for every request, or (with `maxPerSecond`) for those beyond that rate; `malformed-json`: JSON bodies arrive
   * cut short, with their normal status.
   */
  readonly kind: 'down' | 'slow' | 'wrong-password' | 'busy-503' | 'malformed-json';
  /** Delay of `slow` replies. */
  readonly delayMs?: number;
  /** `busy-503` under load: requests within one second beyond this many get 503 (default: every request). */
  readonly maxPerSecond?: number;
}

function nonNegative(v: number | undefined): boolean {
  return v === undefined || (Number.isFinite(v) && v >= 0);
}

/** Checks options; throws {@link ConfigError} naming every bad field (never showing the password). */
export function checkRedfishSimOptions(o: RedfishSimOptions): void {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, value: unknown, rule: string): void => void issues.push({ path, value, rule });
  if (typeof o.username !== 'string' || o.username === '') bad('username', o.username, 'a non-empty string');
  if (typeof o.password !== 'string' || o.password === '') bad('password', typeof o.password, 'a non-empty string');
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('port', o.port, 'an integer 0–65535');
  if (o.variant !== undefined && !REDFISH_VARIANTS.includes(o.variant)) {
    bad('variant', o.variant, `one of ${REDFISH_VARIANTS.join(', ')}`);
  }
  if (o.initialPower !== undefined && o.initialPower !== 'On' && o.initialPower !== 'Off') {
    bad('initialPower', o.initialPower, "'On' or 'Off'");
  }
  for (const [k, v] of Object.entries(o.powerDelays ?? {})) {
    if (!nonNegative(v as number)) bad(`powerDelays.${k}`, v, 'a duration in ms ≥ 0');
  }
  if (o.tls && (!o.tls.certPem.includes('CERTIFICATE') || !o.tls.keyPem.includes('PRIVATE KEY'))) {
    bad('tls', '(pem)', 'a PEM certificate and a PEM private key');
  }
  for (const k of ['sessionTimeoutMs', 'maxSessions', 'maxBodyBytes'] as const) {
    if (!nonNegative(o[k])) bad(k, o[k], 'a number ≥ 0');
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
