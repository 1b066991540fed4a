import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Builds the command tree; each subcommand loads its module only when it runs. */
export function buildProgram(): Command {
  const program = new Command('hafence')
    .description('High availability and fencing for hypervisor hosts')
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('demo')
    .description('run the HA engine on a simulated partition in virtual time and print the timeline')
    .option('--json', 'print the event log as JSON lines')
    .option('--seed <n>', "PRNG seed (default: the scenario's)", (v) => Number.parseInt(v, 10))
    .option('--scenario <file>', 'run a scenario file (docs/behaviour.md#scenarios) instead of the default demo')
    .option('--store <file>', 'the SQLite file to keep the state in (default: a fresh file in the temporary folder)')
    .action(async (opts: { json?: boolean; seed?: number; scenario?: string; store?: string }) => {
      const { runDemo } = await import('./commands/demo.js');
      process.exitCode = await runDemo(opts);
    });
  return program;
}

/** Runs the CLI with `argv`; resolves to the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    const { registerPowerCommand } = await import('./commands/power.js');
    registerPowerCommand?.(program);
    const { registerAgentCommand } = await import('./commands/agent.js');
    registerAgentCommand(program);
    const { registerServeCommand } = await import('./commands/serve.js');
    registerServeCommand(program);
    const { registerValidateCommand } = await import('./commands/validate.js');
    registerValidateCommand(program);
    const { registerStatusCommand } = await import('./commands/status.js');
    registerStatusCommand(program);
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`hafence: ${(err as Error).message}\n`);
    return 1;
  }
}
