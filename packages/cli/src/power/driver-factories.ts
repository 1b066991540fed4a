import { ConfigError, type PowerDriver } from '@hafence/core';
import { envNameRule } from '@hafence/core/internal';

/** Everything `hafence power` knows about the driver to build, from its options. */
export interface DriverFactoryOptions {
  /** Script preset: `ipmitool`, `fence-agent` or `custom`. */
  readonly preset?: string;
  /** Fence agent (`fence_ipmilan`…) for the fence-agent preset. */
  readonly agent?: string;
  /** IPMI cipher suite (default 17). */
  readonly cipher?: number;
  /** Executable of the custom preset. */
  readonly command?: string;
  /** argv template of the custom preset. */
  readonly args?: readonly string[];
  /** Environment variable that carries the password to a custom script. */
  readonly passwordVar?: string;
  /** BMCs the native IPMI driver talks to (`hafence serve`: the hosts): its session cap is kept above it. */
  readonly ipmiBmcs?: number;
}

/** Builds a driver from CLI options; loaded lazily so `hafence --help` stays fast. */
export type DriverFactory = (options: DriverFactoryOptions) => Promise<PowerDriver>;

/** Driver families by `--driver` name. Other packages add their entry (e.g. `ipmi`). */
export const driverFactories: Record<string, DriverFactory> = {
  // Native IPMI 2.0 / RMCP+; the cipher suite travels in each target's options (17 default, 3 fallback).
  // Sessions are reused across the power sync interval; the cap stays above the BMCs served (else reads log in again).
  ipmi: async (o) => {
    const { IpmiPowerDriver, DEFAULT_MAX_SESSIONS } = await import('@hafence/power-ipmi');
    return new IpmiPowerDriver({ session: { maxSessions: Math.max(DEFAULT_MAX_SESSIONS, 2 * (o.ipmiBmcs ?? 0)) } });
  },
  script: async (o) => {
    const { ScriptPowerDriver } = await import('@hafence/power-script');
    switch (o.preset ?? 'ipmitool') {
      case 'ipmitool':
        return new ScriptPowerDriver({ preset: 'ipmitool', ipmitool: { cipher: o.cipher } });
      case 'fence-agent':
        return new ScriptPowerDriver({
          preset: 'fence-agent',
          fenceAgent: { agent: o.agent ?? 'fence_ipmilan', cipher: o.cipher },
        });
      case 'custom':
        if (!o.command)
          throw new ConfigError([{ path: '--command', value: undefined, rule: 'is required with --preset custom' }]);
        // the password lands in this variable of the script's environment: never LD_PRELOAD, PATH, BASH_ENV…
        if (o.passwordVar !== undefined && envNameRule(o.passwordVar)) {
          throw new ConfigError([{ path: '--password-var', value: o.passwordVar, rule: envNameRule(o.passwordVar)! }]);
        }
        return new ScriptPowerDriver({
          preset: 'custom',
          custom: {
            command: o.command,
            args: o.args ?? ['{action}'],
            password: { env: o.passwordVar ?? 'HAFENCE_PASSWORD' },
          },
        });
      default:
        throw new ConfigError([{ path: '--preset', value: o.preset, rule: 'must be ipmitool, fence-agent or custom' }]);
    }
  },
};
