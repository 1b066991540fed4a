import { fileURLToPath } from 'node:url';
import { ConfigError, UnsupportedOperationError, type ChassisPower, type Clock } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';
import { minimalEnv, runProcess, type ProcessResult } from '../process/run-process.js';
import { DEFAULT_CIPHER_SUITE, checkCipherSuite } from './cipher.js';
import { classifyFailure, garbage } from './classify.js';
import { checkTargetFields } from './field-guard.js';
import { findParameter, parseFenceMetadata, validateFenceOptions, type FenceAgentMetadata } from './fence-metadata.js';
import type { ScriptInvocation, ScriptOp, ScriptPreset, ScriptRequest } from './script-preset.js';

/** Options of the `fence-agent` preset; a target's `options.agentOptions` and `options.cipher` add to them per host. */
export interface FenceAgentPresetOptions {
  /** Agent name on PATH (`fence_ipmilan`, `fence_idrac`…) or an absolute path (default `fence_ipmilan`). */
  readonly agent?: string;
  /** Extra `name=value` options, checked against the agent's metadata. Never secrets. */
  readonly agentOptions?: Readonly<Record<string, string | number | boolean>>;
  /** Cipher suite for agents that take one (default 17; 0 refused unless `allowCipherZero`). */
  readonly cipher?: number;
  readonly allowCipherZero?: boolean;
  /**
   * How the password reaches the agent. `auto` (default): through the environment for
   * ipmitool-based agents (they would put it on ipmitool's argv), else on stdin.
   */
  readonly passwordVia?: 'auto' | 'stdin';
  /** ipmitool used behind the shim (default `ipmitool` on PATH). */
  readonly ipmitoolPath?: string;
}

/** Maps hafence operations to fence-agent actions; absent ones are unsupported. */
const ACTIONS: Partial<Record<ScriptOp, string>> = {
  status: 'status',
  on: 'on',
  off: 'off',
  cycle: 'reboot',
  validate: 'monitor',
};
const SECRET_KEY = /pass|secret|kg|key|community|token/i;
const SHIM = fileURLToPath(new URL('../../shim/ipmitool-env-shim.sh', import.meta.url));
const METADATA_TIMEOUT_MS = 10_000;

/**
 * ClusterLabs fence agents (`fence_*`): options as `name=value` lines on stdin, an
 * explicit `action=` always (an agent's default action is reboot), exit codes 0 = ON /
 * success, 2 = OFF, 1 = failure. The agent's `metadata` is parsed to validate options.
 */
export class FenceAgentPreset implements ScriptPreset {
  readonly name: string;
  private readonly agent: string;
  private meta?: Promise<FenceAgentMetadata>;

  /** Builds the preset; bad names or a zero cipher throw `ConfigError` here already. */
  constructor(
    private readonly options: FenceAgentPresetOptions,
    private readonly clock: Clock,
  ) {
    this.agent = options.agent ?? 'fence_ipmilan';
    if (!/^fence_[A-Za-z0-9_]+$/.test(this.agent) && !this.agent.startsWith('/')) {
      throw new ConfigError([
        { path: 'fenceAgent.agent', value: this.agent, rule: 'must be a fence_* agent name or an absolute path' },
      ]);
    }
    checkCipherSuite(options.cipher ?? DEFAULT_CIPHER_SUITE, options.allowCipherZero ?? false, 'fenceAgent.cipher');
    this.name = `fence-agent:${this.agent.split('/').pop()}`;
  }

  /** The agent's parsed metadata (run once, then cached). */
  metadata(signal: AbortSignal): Promise<FenceAgentMetadata> {
    this.meta ??= this.loadMetadata(signal).catch((err: unknown) => {
      this.meta = undefined;
      throw err;
    });
    return this.meta;
  }

  async prepare(request: ScriptRequest, signal: AbortSignal): Promise<ScriptInvocation> {
    const action = ACTIONS[request.op];
    if (!action) throw new UnsupportedOperationError(request.op, `script:${this.name}`);
    const { target } = request;
    // Before anything runs (the metadata run included): every line on stdin is name=value.
    checkTargetFields(target);
    const o = target.options ?? {};
    const user = stringify({
      ...this.options.agentOptions,
      ...(o.agentOptions as Record<string, unknown> | undefined),
    });
    for (const [key, value] of Object.entries(user)) {
      if (SECRET_KEY.test(key))
        throw new ConfigError([
          {
            path: `agentOptions.${key}`,
            value: '[not shown]',
            rule: 'secrets go in the target password, never in agent options',
          },
        ]);
      if (!/^[A-Za-z0-9_-]+$/.test(key) || hasControlChars(value)) {
        throw new ConfigError([
          {
            path: 'agentOptions',
            value: key,
            rule: 'option names are letters, digits, _ and -; values hold no control characters',
          },
        ]);
      }
    }
    const meta = await this.metadata(signal);
    validateFenceOptions(meta, user);
    const lines = new Map<string, string>();
    const put = (names: string[], value: string | undefined) => {
      const p = names.map((n) => meta.parameters.get(n)).find(Boolean);
      if (p && value !== undefined) lines.set(p.name, value);
    };
    put(['ip', 'ipaddr'], target.address);
    if (target.port !== undefined) put(['ipport'], String(target.port));
    put(['username', 'login'], target.username);
    put(['lanplus'], '1');
    const allowZero = o.allowCipherZero === true || (this.options.allowCipherZero ?? false);
    if (meta.parameters.has('cipher')) {
      lines.set(
        'cipher',
        String(
          checkCipherSuite(
            o.cipher ?? this.options.cipher ?? DEFAULT_CIPHER_SUITE,
            allowZero,
            `hosts.${target.host}.cipher`,
          ),
        ),
      );
    }
    for (const [k, v] of Object.entries(user)) lines.set(findParameter(meta, k)!.name, v);
    const env: Record<string, string> = {};
    const password = target.password?.reveal();
    if (password !== undefined) {
      if (meta.parameters.has('ipmitool_path') && (this.options.passwordVia ?? 'auto') === 'auto') {
        // the agent would run `ipmitool -P <password>`: give it none, and a shim that uses -E
        lines.set('ipmitool_path', SHIM);
        if (meta.parameters.has('verbose')) lines.set('verbose', '1');
        env.IPMI_PASSWORD = password;
        env.HAFENCE_IPMITOOL = user.ipmitool_path ?? this.options.ipmitoolPath ?? 'ipmitool';
      } else {
        put(['password', 'passwd'], password);
      }
    }
    const body = [`action=${action}`, ...[...lines].map(([k, v]) => `${k}=${v}`)].join('\n');
    // one line per option, one action line: nothing above can have added another
    if (body.split('\n').length !== lines.size + 1)
      throw new ConfigError([
        { path: `hosts.${target.host}`, value: '[not shown]', rule: 'an option value spans lines; refused' },
      ]);
    return { command: this.agent, args: [], env, stdin: `${body}\n` };
  }

  interpret(request: ScriptRequest, result: ProcessResult): ChassisPower | undefined {
    const said = /^Status: (ON|OFF)\s*$/m.exec(result.stdout)?.[1] as ChassisPower | undefined;
    if (request.op === 'status') {
      if (result.code !== 0 && result.code !== 2) throw classifyFailure(`script:${this.name}`, request, result);
      const state: ChassisPower = result.code === 0 ? 'ON' : 'OFF';
      if (said !== undefined && said !== state)
        throw garbage(request, result, `'Status: ${state}' for exit ${result.code}`);
      return state;
    }
    if (result.code !== 0) throw classifyFailure(`script:${this.name}`, request, result);
    return undefined;
  }

  private async loadMetadata(signal: AbortSignal): Promise<FenceAgentMetadata> {
    const who = { driver: `script:${this.name}`, host: '(metadata)' };
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.clock.setTimeout(() => ctl.abort(new Error('metadata timed out')), METADATA_TIMEOUT_MS);
    try {
      const result = await runProcess(
        { command: this.agent, args: [], env: minimalEnv(), stdin: 'action=metadata\n' },
        { signal: ctl.signal, maxOutputBytes: 1 << 20, clock: this.clock },
        who,
      );
      return parseFenceMetadata(result.stdout);
    } catch (err) {
      if (err instanceof ConfigError || (err as { code?: string }).code) throw err;
      throw new ConfigError([
        { path: 'fenceAgent.agent', value: this.agent, rule: `metadata unusable: ${(err as Error).message}` },
      ]);
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function stringify(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  return out;
}
