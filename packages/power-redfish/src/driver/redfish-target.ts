import { ConfigError, type PowerTarget } from '@hafence/core';

/** The `PowerTarget.options` the Redfish driver reads (none of them a secret). */
export interface RedfishTargetOptions {
  /** The system's `Id` (last part of its path) when `Systems` has several members. */
  readonly systemId?: string;
  /** Fall back to HTTP Basic when the service has no session login. */
  readonly basicAuth?: boolean;
  /** PEM file of the CA that signed this BMC's certificate. */
  readonly caFile?: string;
  /** Accept this BMC's certificate without verification (self-signed); logged as a warning. */
  readonly insecureTls?: boolean;
  /**
   * HTTPS port of the Redfish service when the target's `port` belongs to another driver of
   * the chain (IPMI's 623); default the target's port, else 443.
   */
  readonly redfishPort?: number;
  /** Longest wait for a reset's task monitor (default: the call's timeout). */
  readonly taskTimeoutMs?: number;
}

/** The options of a target, checked: a wrong type is a `ConfigError` naming the option. */
export function readTargetOptions(target: PowerTarget): RedfishTargetOptions {
  const o = (target.options ?? {}) as Record<string, unknown>;
  const issue = (name: string, rule: string) =>
    new ConfigError([{ path: `${target.host}.options.${name}`, value: o[name], rule }]);
  const str = (name: string): string | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw issue(name, 'must be a non-empty string');
    return v;
  };
  const bool = (name: string): boolean | undefined => {
    const v = o[name];
    if (v === undefined || typeof v === 'boolean') return v;
    throw issue(name, 'must be true or false');
  };
  const task = o.taskTimeoutMs;
  if (task !== undefined && (typeof task !== 'number' || !Number.isInteger(task) || task < 1))
    throw issue('taskTimeoutMs', 'must be a positive integer');
  const port = o.redfishPort;
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535))
    throw issue('redfishPort', 'must be a port 1-65535');
  const systemId = str('systemId');
  if (systemId !== undefined && /[/?#\s]/.test(systemId)) throw issue('systemId', 'must be a system Id, not a path');
  const caFile = str('caFile');
  const basicAuth = bool('basicAuth');
  const insecureTls = bool('insecureTls');
  return {
    ...(systemId !== undefined ? { systemId } : {}),
    ...(basicAuth !== undefined ? { basicAuth } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
    ...(insecureTls !== undefined ? { insecureTls } : {}),
    ...(task !== undefined ? { taskTimeoutMs: task } : {}),
    ...(port !== undefined ? { redfishPort: port } : {}),
  };
}
