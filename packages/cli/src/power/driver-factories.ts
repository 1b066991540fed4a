import { ConfigError, type Logger, type PowerDriver } from '@hafence/core';
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
  /** Redfish: PEM file of the CA that signed the BMC certificates. */
  readonly caFile?: string;
  /** Redfish: accept self-signed BMC certificates without verification (a warning is logged). */
  readonly insecureTls?: boolean;
  /** Redfish: fall back to HTTP Basic when the BMC has no session login. */
  readonly basicAuth?: boolean;
  /** Where drivers log (the Redfish insecure-TLS warning). */
  readonly logger?: Logger;
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
  // Redfish over HTTPS: TLS verified unless --insecure-tls (warned on stderr); sessions and connections reused.
  redfish: async (o) =>
    new (await import('@hafence/power-redfish')).RedfishPowerDriver({
      ...(o.caFile !== undefined ? { caFile: o.caFile } : {}),
      ...(o.insecureTls ? { insecureTls: true } : {}),
      ...(o.basicAuth ? { basicAuth: true } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    }),
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
