import { InvalidArgumentError, type Command } from 'commander';

function int(min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new InvalidArgumentError(`must be an integer ${min}-${max}`);
    return Number(v);
  };
}

/**
 * Registers `hafence validate --config FILE [--probe] [--json]`: checks a cluster file as
 * `serve` would (exit 2 naming every bad field) and, with `--probe`, logs in to every BMC
 * (a status read only) and asks every agent's health; exit codes as `hafence power`.
 */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a cluster file as serve would; --probe also logs in to every BMC and agent (no power change)')
    .requiredOption('--config <file>', 'the cluster file (YAML or JSON)')
    .option('--probe', 'log in to every BMC (status read only) and call every agent health endpoint')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option('--tls-ca <file>', "PEM CA that verifies https:// agents (overrides the cluster file's agentTls.caFile)")
    .option('--concurrency <n>', 'hosts probed at once', int(1, 1000), 16)
    .option('--timeout-ms <ms>', 'per-host timeout of a BMC login or an agent answer', int(1, 600_000), 10_000)
    .action(
      async (opts: {
        config: string;
        probe?: boolean;
        json?: boolean;
        tlsCa?: string;
        concurrency: number;
        timeoutMs: number;
      }) => {
        const { runValidate } = await import('../validate/run-validate.js');
        process.exitCode = await runValidate(opts);
      },
    );
}
