import {
  ConfigError,
  TimeoutError,
  abortReason,
  systemClock,
  type ChassisCommand,
  type ChassisPower,
  type Clock,
  type PowerCallOptions,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';
import { DEFAULT_PATH, minimalEnv, runProcess } from './process/run-process.js';
import { CustomPreset, type CustomPresetOptions } from './presets/custom-preset.js';
import { FenceAgentPreset, type FenceAgentPresetOptions } from './presets/fence-agent-preset.js';
import { IpmitoolPreset, type IpmitoolPresetOptions } from './presets/ipmitool-preset.js';
import type { ScriptOp, ScriptPreset, ScriptRequest } from './presets/script-preset.js';
import { checkInvocation } from './presets/field-guard.js';

/** The built-in presets. */
export type ScriptPresetName = 'ipmitool' | 'fence-agent' | 'custom';

/** Options of {@link ScriptPowerDriver}. */
export interface ScriptPowerDriverOptions {
  /** Registry name (default `script`). */
  readonly name?: string;
  /** A built-in preset by name, or your own {@link ScriptPreset}. */
  readonly preset: ScriptPresetName | ScriptPreset;
  /** Options of the `ipmitool` preset. */
  readonly ipmitool?: IpmitoolPresetOptions;
  /** Options of the `fence-agent` preset. */
  readonly fenceAgent?: FenceAgentPresetOptions;
  /** Options of the `custom` preset (required with it). */
  readonly custom?: CustomPresetOptions;
  /** Bytes kept of each of stdout and stderr (default 64 KiB). */
  readonly maxOutputBytes?: number;
  /** PATH of the children (default: the system directories). */
  readonly path?: string;
  /** Time source of the driver's own deadline. */
  readonly clock?: Clock;
  /** Called with each child's PID once it runs (observability, tests). */
  readonly onSpawn?: (pid: number, op: ScriptOp, host: string) => void;
}

/**
 * A {@link PowerDriver} that runs a program per operation: ipmitool, a ClusterLabs
 * fence agent, or any executable. Every run has a minimal environment, capped output,
 * secrets only in the environment or on stdin (never argv), and a deadline that kills
 * the child's whole process group. Failures map to the typed errors of `@hafence/core`.
 *
 * @example
 * const driver = new ScriptPowerDriver({ preset: 'ipmitool', ipmitool: { cipher: 17 } });
 * const state = await driver.status(
 *   { host: 'kvm1', address: '10.0.0.11', username: 'admin', password: new Secret(pw) },
 *   { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 });
 */
export class ScriptPowerDriver implements PowerDriver {
  readonly name: string;
  /** The preset every operation goes through. */
  readonly preset: ScriptPreset;
  private readonly clock: Clock;
  private readonly maxOutputBytes: number;

  /** Builds the driver; invalid preset options throw `ConfigError` here. */
  constructor(private readonly options: ScriptPowerDriverOptions) {
    this.name = options.name ?? 'script';
    this.clock = options.clock ?? systemClock;
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.preset = makePreset(options, this.clock);
  }

  async status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    const state = await this.run({ op: 'status', target, timeoutMs: options.timeoutMs }, options.signal);
    if (state === undefined)
      throw new ConfigError([{ path: 'preset', value: this.preset.name, rule: 'status gave no state' }]);
    return state;
  }

  async control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    await this.run({ op: command, target, timeoutMs: options.timeoutMs }, options.signal);
  }

  async identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    await this.run({ op: 'identify', target, seconds, timeoutMs: options.timeoutMs }, options.signal);
  }

  async validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    await this.run({ op: 'validate', target, timeoutMs: options.timeoutMs }, options.signal);
  }

  /** Nothing is kept open between runs. */
  async close(): Promise<void> {}

  private async run(request: ScriptRequest, signal: AbortSignal): Promise<ChassisPower | undefined> {
    if (signal.aborted) throw asTyped(abortReason(signal), request);
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.clock.setTimeout(
      () => ctl.abort(new TimeoutError(request.op, request.timeoutMs, request.target.host)),
      request.timeoutMs,
    );
    try {
      const inv = await this.preset.prepare(request, ctl.signal);
      checkInvocation([inv.command, ...inv.args], inv.env, request.target.host);
      const password = request.target.password?.reveal();
      if (password && [inv.command, ...inv.args].some((a) => a.includes(password))) {
        // a username or address equal to the password would still leak it through ps
        throw new ConfigError([
          {
            path: `hosts.${request.target.host}`,
            value: '[redacted]',
            rule: 'the password would appear on the command line; refused',
          },
        ]);
      }
      const result = await runProcess(
        {
          command: inv.command,
          args: inv.args,
          env: minimalEnv(inv.env, this.options.path ?? DEFAULT_PATH),
          stdin: inv.stdin,
        },
        {
          signal: ctl.signal,
          maxOutputBytes: this.maxOutputBytes,
          clock: this.clock,
          onSpawn: (pid) => this.options.onSpawn?.(pid, request.op, request.target.host),
        },
        { driver: `${this.name}:${this.preset.name}`, host: request.target.host },
      );
      return this.preset.interpret(request, result);
    } catch (err) {
      throw ctl.signal.aborted ? asTyped(abortReason(ctl.signal), request) : err;
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

// A deadline from AbortSignal.timeout() (a DOMException named TimeoutError) becomes our TimeoutError.
function asTyped(reason: Error, request: ScriptRequest): Error {
  if (reason instanceof TimeoutError || reason.name !== 'TimeoutError') return reason;
  return new TimeoutError(request.op, request.timeoutMs, request.target.host, { cause: reason });
}

function makePreset(options: ScriptPowerDriverOptions, clock: Clock): ScriptPreset {
  if (typeof options.preset !== 'string') return options.preset;
  switch (options.preset) {
    case 'ipmitool':
      return new IpmitoolPreset(options.ipmitool);
    case 'fence-agent':
      return new FenceAgentPreset(options.fenceAgent ?? {}, clock);
    case 'custom':
      if (!options.custom)
        throw new ConfigError([{ path: 'custom', value: undefined, rule: 'is required with preset custom' }]);
      return new CustomPreset(options.custom);
    default:
      throw new ConfigError([
        { path: 'preset', value: options.preset, rule: 'must be ipmitool, fence-agent or custom' },
      ]);
  }
}
