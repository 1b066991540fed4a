import { InvalidArgumentError, type Command } from 'commander';

/**
 * Registers `hafence status [--url URL] [--token-file F] [--tls-ca F] [--json] [RESOURCE]`:
 * the state of a running `hafence serve --http`, read through its API. Exit codes as
 * `hafence power` (3 token refused, 4 unreachable or timeout, 5 not the API's answer).
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the partitions and hosts of a running serve --http (or one host in detail)')
    .argument('[resource]', 'a host id: its timers, episode counters and last transitions')
    .option('--url <url>', 'the API of serve --http', 'http://127.0.0.1:9440')
    .option('--token-file <file>', 'API token file (NAME TOKEN lines or one bare token; mode 0600): sent as Bearer')
    .option('--tls-ca <file>', 'PEM CA that verifies an https:// API')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option(
      '--timeout-ms <ms>',
      'longest wait for each answer',
      (v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 600_000)
          throw new InvalidArgumentError('must be an integer 1-600000');
        return Number(v);
      },
      5_000,
    )
    .action(
      async (
        resource: string | undefined,
        opts: { url: string; tokenFile?: string; tlsCa?: string; json?: boolean; timeoutMs: number },
      ) => {
        const { runStatus } = await import('../status/run-status.js');
        process.exitCode = await runStatus(resource, opts);
      },
    );
}
