import { ConfigError, UnsupportedOperationError, type ChassisPower } from '@hafence/core';
import { envNameRule, hasControlChars } from '@hafence/core/internal';
import type { ProcessResult } from '../process/run-process.js';
import { classifyFailure, garbage } from './classify.js';
import { checkTargetFields } from './field-guard.js';
import type { ScriptInvocation, ScriptOp, ScriptPreset, ScriptRequest } from './script-preset.js';

/** How the custom script receives the password: an environment variable, or a line on stdin. */
export type CustomPasswordVia = { readonly env: string } | { readonly stdin: true };

/** How a custom script's answer to `status` is read. */
export interface CustomStatusParse {
  /** Regex source matched on stdout meaning ON (default `\bon\b`, case-insensitive). */
  readonly on?: string;
  /** Regex source matched on stdout meaning OFF (default `\boff\b`, case-insensitive). */
  readonly off?: string;
  /** Exit codes meaning ON / OFF; when given they decide and the regexes only cross-check. */
  readonly exitCodes?: { readonly on: readonly number[]; readonly off: readonly number[] };
}

/** Options of the `custom` preset. */
export interface CustomPresetOptions {
  /** The executable (absolute path, or a name on the child's PATH). */
  readonly command: string;
  /**
   * argv template. Placeholders: `{action}` `{op}` `{host}` `{address}` `{port}`
   * `{username}` `{seconds}`. `{password}` is refused: argv is world-readable.
   */
  readonly args: readonly string[];
  /** Action word per operation (default: the operation's name). With this map, unlisted operations are unsupported. */
  readonly actions?: Partial<Record<ScriptOp, string>>;
  /** Where the password goes (default `{ env: 'HAFENCE_PASSWORD' }`). */
  readonly password?: CustomPasswordVia;
  /** Extra stdin lines, templated like `args` (after the password line when `password.stdin`). */
  readonly stdin?: readonly string[];
  /** Exit codes meaning success for commands (default `[0]`). */
  readonly successCodes?: readonly number[];
  /** Status parsing. */
  readonly status?: CustomStatusParse;
  /** Regex source that, when stdout matches, means the command failed despite its exit code. */
  readonly failurePattern?: string;
}

const PLACEHOLDER = /\{([a-z]+)\}/g;
const KNOWN = new Set(['action', 'op', 'host', 'address', 'port', 'username', 'seconds']);

/**
 * Any executable: templated argv without secrets, the password through the environment
 * or stdin, configurable success codes and status parsing.
 *
 * @example
 * new CustomPreset({
 *   command: '/opt/bmc/power.sh',
 *   args: ['--bmc', '{address}', '{action}'],
 *   status: { exitCodes: { on: [0], off: [2] } },
 * });
 */
export class CustomPreset implements ScriptPreset {
  readonly name: string;
  private readonly on: RegExp;
  private readonly off: RegExp;
  private readonly failure?: RegExp;

  /** Builds the preset; a `{password}` in the templates or an unknown placeholder is a `ConfigError`. */
  constructor(private readonly options: CustomPresetOptions) {
    if (!options.command)
      throw new ConfigError([{ path: 'custom.command', value: options.command, rule: 'is required' }]);
    for (const [i, t] of [
      ...options.args.map((a) => ['args', a] as const),
      ...(options.stdin ?? []).map((s) => ['stdin', s] as const),
    ].entries()) {
      if (hasControlChars(t[1]))
        throw new ConfigError([
          { path: `custom.${t[0]}[${i}]`, value: t[1], rule: 'must not contain control characters' },
        ]);
      for (const [, name = ''] of t[1].matchAll(PLACEHOLDER)) {
        if (name === 'password')
          throw new ConfigError([
            {
              path: `custom.${t[0]}[${i}]`,
              value: t[1],
              rule: '{password} is not allowed in templates: use password.env or password.stdin',
            },
          ]);
        if (!KNOWN.has(name))
          throw new ConfigError([{ path: `custom.${t[0]}[${i}]`, value: t[1], rule: `unknown placeholder {${name}}` }]);
      }
    }
    const envName = options.password && 'env' in options.password ? options.password.env : undefined;
    const envRule = envName === undefined ? undefined : envNameRule(envName);
    if (envRule) throw new ConfigError([{ path: 'custom.password.env', value: envName, rule: envRule }]);
    this.on = regex(options.status?.on ?? '\\bon\\b', 'custom.status.on');
    this.off = regex(options.status?.off ?? '\\boff\\b', 'custom.status.off');
    this.failure = options.failurePattern ? regex(options.failurePattern, 'custom.failurePattern') : undefined;
    this.name = `custom:${options.command.split('/').pop()}`;
  }

  async prepare(request: ScriptRequest): Promise<ScriptInvocation> {
    const action = this.options.actions ? this.options.actions[request.op] : request.op;
    if (action === undefined) throw new UnsupportedOperationError(request.op, `script:${this.name}`);
    const { target } = request;
    checkTargetFields(target);
    const values: Record<string, string> = {
      action,
      op: request.op,
      host: target.host,
      address: target.address,
      port: target.port === undefined ? '' : String(target.port),
      username: target.username ?? '',
      seconds: String(request.seconds ?? ''),
    };
    const fill = (t: string) => t.replace(PLACEHOLDER, (_all, k: string) => values[k] ?? '');
    const via = this.options.password ?? { env: 'HAFENCE_PASSWORD' };
    const password = target.password?.reveal();
    const env: Record<string, string> = {};
    const stdin: string[] = [];
    if (password !== undefined) {
      if ('env' in via) env[via.env] = password;
      else stdin.push(password);
    }
    stdin.push(...(this.options.stdin ?? []).map(fill));
    return {
      command: this.options.command,
      args: this.options.args.map(fill),
      env,
      stdin: stdin.length ? `${stdin.join('\n')}\n` : '',
    };
  }

  interpret(request: ScriptRequest, result: ProcessResult): ChassisPower | undefined {
    const codes = this.options.status?.exitCodes;
    if (this.failure?.test(result.stdout)) throw classifyFailure(`script:${this.name}`, request, result);
    if (request.op === 'status') {
      const byCode = codes
        ? codes.on.includes(result.code ?? -1)
          ? 'ON'
          : codes.off.includes(result.code ?? -1)
            ? 'OFF'
            : undefined
        : undefined;
      if (codes && !byCode) throw classifyFailure(`script:${this.name}`, request, result);
      if (!codes && result.code !== 0) throw classifyFailure(`script:${this.name}`, request, result);
      const on = this.on.test(result.stdout);
      const off = this.off.test(result.stdout);
      const byText: ChassisPower | undefined = on === off ? undefined : on ? 'ON' : 'OFF';
      if (byCode) {
        if (byText && byText !== byCode) throw garbage(request, result, `output agreeing with exit ${result.code}`);
        return byCode;
      }
      if (!byText) throw garbage(request, result, `exactly one of /${this.on.source}/ or /${this.off.source}/`);
      return byText;
    }
    if (!(this.options.successCodes ?? [0]).includes(result.code ?? -1))
      throw classifyFailure(`script:${this.name}`, request, result);
    return undefined;
  }
}

function regex(source: string, path: string): RegExp {
  try {
    return new RegExp(source, 'i');
  } catch {
    throw new ConfigError([{ path, value: source, rule: 'must be a valid regular expression' }]);
  }
}
