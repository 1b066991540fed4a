import {
  ConfigError,
  PowerManagementService,
  resolveCredential,
  type ChassisCommand,
  type CredentialRef,
  type HaError,
  type Secret,
} from '@hafence/core';
import { Semaphore, hasControlChars } from '@hafence/core/internal';
import { driverFactories } from './driver-factories.js';
import { stderrLogger } from '../stderr-logger.js';
import { EXIT, exitCodeFor, worstExitCode } from '../exit-codes.js';
import { formatTarget, parseTarget, readTargetsFile, type CliTarget } from './targets-file.js';

/** The actions of `hafence power`. */
export const POWER_ACTIONS = ['status', 'on', 'off', 'soft', 'cycle', 'reset', 'identify', 'validate'] as const;

/** One of {@link POWER_ACTIONS}. */
export type PowerAction = (typeof POWER_ACTIONS)[number];

/** Parsed options of `hafence power`. */
export interface PowerCommandOptions {
  driver: string;
  preset?: string;
  agent?: string;
  host?: string;
  port?: number;
  targets?: string;
  username?: string;
  passwordEnv?: string;
  passwordFile?: string;
  passwordEncrypted?: string;
  cipher?: number;
  timeoutMs?: number;
  concurrency: number;
  seconds: number;
  command?: string;
  arg?: string[];
  passwordVar?: string;
  systemId?: string;
  caFile?: string;
  insecureTls?: boolean;
  basicAuth?: boolean;
  json?: boolean;
}

/** Where the command writes; the process streams by default, buffers in tests. */
export interface PowerIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: PowerIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Runs `hafence power ACTION` on one BMC or on every line of `--targets`; resolves to the exit code. */
export async function runPower(
  action: PowerAction,
  opts: PowerCommandOptions,
  io: PowerIo = processIo,
): Promise<number> {
  let service: PowerManagementService | undefined;
  try {
    const targets = chooseTargets(opts);
    if (opts.username !== undefined && hasControlChars(opts.username)) {
      throw new ConfigError([
        {
          path: '--username',
          value: opts.username,
          rule: 'must not contain control characters (newline, NUL, escape…)',
        },
      ]);
    }
    const password = choosePassword(opts);
    const factory = driverFactories[opts.driver];
    if (!factory)
      throw new ConfigError([
        { path: '--driver', value: opts.driver, rule: `must be one of ${Object.keys(driverFactories).join(', ')}` },
      ]);
    const driver = await factory({
      preset: opts.preset,
      agent: opts.agent,
      cipher: opts.cipher,
      command: opts.command,
      args: opts.arg,
      passwordVar: opts.passwordVar,
      caFile: opts.caFile,
      insecureTls: opts.insecureTls,
      basicAuth: opts.basicAuth,
      logger: stderrLogger,
    });
    service = new PowerManagementService({
      drivers: [driver],
      config: opts.timeoutMs ? { powerOpTimeout: opts.timeoutMs } : {},
    });
    const svc = service;
    const limit = new Semaphore(opts.concurrency);
    const many = opts.targets !== undefined;
    const codes = await Promise.all(
      targets.map((t, i) =>
        limit.with(async () => {
          const host = `${formatTarget(t)}#${i}`;
          svc.register(host, {
            drivers: [driver.name],
            target: {
              host: formatTarget(t),
              address: t.address,
              port: t.port,
              username: opts.username,
              password,
              options: targetOptions(opts),
            },
          });
          try {
            const state = await perform(svc, host, action, opts.seconds);
            io.out(formatOk(action, state, many ? formatTarget(t) : undefined, opts.json));
            return EXIT.ok;
          } catch (err) {
            report(io, err, many ? formatTarget(t) : undefined, opts.json);
            return exitCodeFor(err);
          }
        }),
      ),
    );
    return worstExitCode(codes);
  } catch (err) {
    report(io, err, undefined, opts.json);
    return exitCodeFor(err);
  } finally {
    await service?.close();
  }
}

async function perform(
  svc: PowerManagementService,
  host: string,
  action: PowerAction,
  seconds: number,
): Promise<string | undefined> {
  const by = { by: 'operator' };
  switch (action) {
    case 'status':
      return (await svc.status(host, by)).toLowerCase();
    case 'identify':
      await svc.identify(host, seconds, by);
      return undefined;
    case 'validate':
      await svc.validate(host, by);
      return undefined;
    default:
      await svc.command(host, action as ChassisCommand, by);
      return undefined;
  }
}

function targetOptions(opts: PowerCommandOptions): Record<string, unknown> {
  return {
    ...(opts.cipher === undefined ? {} : { cipher: opts.cipher }),
    ...(opts.systemId === undefined ? {} : { systemId: opts.systemId }),
  };
}

function chooseTargets(opts: PowerCommandOptions): CliTarget[] {
  if (opts.targets !== undefined && opts.host !== undefined) {
    throw new ConfigError([
      { path: '--targets', value: opts.targets, rule: 'give either --host or --targets, not both' },
    ]);
  }
  if (opts.targets !== undefined)
    return readTargetsFile(opts.targets).map((t) => ({ address: t.address, port: t.port ?? opts.port }));
  if (opts.host === undefined)
    throw new ConfigError([{ path: '--host', value: undefined, rule: 'is required (or --targets FILE)' }]);
  const t = parseTarget(opts.host);
  return [{ address: t.address, port: opts.port ?? t.port }];
}

function choosePassword(opts: PowerCommandOptions): Secret | undefined {
  const refs: CredentialRef[] = [];
  if (opts.passwordEnv) refs.push({ env: opts.passwordEnv });
  if (opts.passwordFile) refs.push({ file: opts.passwordFile });
  if (opts.passwordEncrypted) refs.push({ encrypted: opts.passwordEncrypted });
  if (refs.length > 1)
    throw new ConfigError([{ path: '--password-*', value: refs.length, rule: 'give one password source' }]);
  const [ref] = refs;
  return ref === undefined ? undefined : resolveCredential(ref);
}

function formatOk(action: PowerAction, state: string | undefined, target: string | undefined, json?: boolean): string {
  if (json) return JSON.stringify({ ...(target ? { target } : {}), ...(state ? { state } : { action, ok: true }) });
  const word = state ?? 'ok';
  return target ? `${target} ${word}` : word;
}

function report(io: PowerIo, err: unknown, target: string | undefined, json?: boolean): void {
  const e = err as Partial<HaError> & Error;
  const message = e?.message ?? String(err);
  if (json) {
    io.out(
      JSON.stringify({
        ...(target ? { target } : {}),
        ok: false,
        error: { code: e?.code ?? 'HAF0000', type: e?.name ?? 'Error', message },
      }),
    );
  } else if (target) {
    io.out(`${target} error ${message}`);
  } else {
    io.err(`hafence: ${message}`);
  }
}
