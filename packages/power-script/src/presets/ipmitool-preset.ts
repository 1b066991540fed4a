import type { ChassisCommand, ChassisPower } from '@hafence/core';
import type { ProcessResult } from '../process/run-process.js';
import { checkCipherSuite, DEFAULT_CIPHER_SUITE } from './cipher.js';
import { classifyFailure, garbage } from './classify.js';
import { checkTargetFields } from './field-guard.js';
import type { ScriptInvocation, ScriptPreset, ScriptRequest } from './script-preset.js';

/**
 * Options of the `ipmitool` preset; a target's `options.cipher`, `options.privilege`, `options.allowCipherZero`
 * override them per host.
 */
export interface IpmitoolPresetOptions {
  /** The ipmitool executable (default `ipmitool` on the child's PATH). */
  readonly command?: string;
  /** RMCP+ cipher suite (default 17); 0 is refused unless `allowCipherZero`. */
  readonly cipher?: number;
  /** Allows cipher suite 0 (no authentication). */
  readonly allowCipherZero?: boolean;
  /** Session privilege (default `ADMINISTRATOR`). */
  readonly privilege?: 'ADMINISTRATOR' | 'OPERATOR' | 'USER';
  /** Seconds ipmitool waits per try (`-N`, default 1). */
  readonly retryTimeoutSec?: number;
  /**
   * Retries (`-R`); by default as many as fit in the call's deadline (ipmitool over lanplus takes about R × (R + 1) × N
   * s to give up), 1–4.
   */
  readonly retries?: number;
}

const STATUS = /Chassis Power is (on|off)\b/i;
const CONTROL: Record<ChassisCommand, RegExp> = {
  on: /Chassis Power Control: Up\/On/i,
  off: /Chassis Power Control: Down\/Off/i,
  soft: /Chassis Power Control: Soft/i,
  cycle: /Chassis Power Control: Cycle/i,
  reset: /Chassis Power Control: Reset/i,
};
const IDENTIFY = /Chassis identify interval: /i;

/**
 * ipmitool over RMCP+ (`-I lanplus`): cipher suite 17 by default, the password only
 * through the environment (`-E` / `IPMI_PASSWORD`), never `-P`. `-v` makes ipmitool name
 * its failures, so a wrong password (`RAKP 2 HMAC is invalid`) becomes an `AuthError`.
 */
export class IpmitoolPreset implements ScriptPreset {
  readonly name = 'ipmitool';

  /** Builds the preset; an invalid or zero cipher suite throws `ConfigError` here already. */
  constructor(private readonly options: IpmitoolPresetOptions = {}) {
    checkCipherSuite(options.cipher ?? DEFAULT_CIPHER_SUITE, options.allowCipherZero ?? false, 'ipmitool.cipher');
  }

  async prepare(request: ScriptRequest): Promise<ScriptInvocation> {
    const { target } = request;
    checkTargetFields(target);
    const o = target.options ?? {};
    const allowZero = o.allowCipherZero === true || (this.options.allowCipherZero ?? false);
    const cipher = checkCipherSuite(
      o.cipher ?? this.options.cipher ?? DEFAULT_CIPHER_SUITE,
      allowZero,
      `hosts.${target.host}.cipher`,
    );
    const privilege = String(o.privilege ?? this.options.privilege ?? 'ADMINISTRATOR');
    const perTry = this.options.retryTimeoutSec ?? 1;
    const retries = this.options.retries ?? retriesWithin(request.timeoutMs, perTry);
    const args = ['-I', 'lanplus', '-H', target.address];
    if (target.port !== undefined) args.push('-p', String(target.port));
    if (target.username) args.push('-U', target.username);
    if (target.password) args.push('-E');
    args.push(
      '-C',
      String(cipher),
      '-L',
      privilege,
      '-N',
      String(perTry),
      '-R',
      String(retries),
      '-v',
      ...command(request),
    );
    const env: Record<string, string> = target.password ? { IPMI_PASSWORD: target.password.reveal() } : {};
    return { command: this.options.command ?? 'ipmitool', args, env };
  }

  interpret(request: ScriptRequest, result: ProcessResult): ChassisPower | undefined {
    if (result.code !== 0) throw classifyFailure(`script:${this.name}`, request, result);
    const { op } = request;
    if (op === 'status' || op === 'validate') {
      const m = STATUS.exec(result.stdout);
      if (!m) throw garbage(request, result, "'Chassis Power is on|off'");
      const [, state = ''] = m;
      return op === 'status' ? (state.toLowerCase() === 'on' ? 'ON' : 'OFF') : undefined;
    }
    const want = op === 'identify' ? IDENTIFY : CONTROL[op];
    if (!want.test(result.stdout)) throw garbage(request, result, `ipmitool's acknowledgement of ${op}`);
    return undefined;
  }
}

function command(request: ScriptRequest): string[] {
  switch (request.op) {
    case 'status':
    case 'validate':
      return ['chassis', 'power', 'status'];
    case 'identify':
      return ['chassis', 'identify', String(Math.max(0, Math.min(255, Math.round(request.seconds ?? 15))))];
    default:
      return ['chassis', 'power', request.op];
  }
}

// Measured: ipmitool -I lanplus -N n -R r gives up after about r·(r+1)·n seconds.
function retriesWithin(timeoutMs: number, perTrySec: number): number {
  let r = 1;
  while (r < 4 && (r + 1) * (r + 2) * perTrySec * 1000 <= 0.8 * timeoutMs) r++;
  return r;
}
