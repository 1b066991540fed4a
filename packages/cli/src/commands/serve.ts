import type { Command } from 'commander';

/**
 * Registers `hafence serve --config FILE [--json] [--observe-only]`: the standalone management server
 * of a bare-metal KVM cluster (HA engine, KVM provider over the hafence agents, power
 * service with native IPMI). The engine is loaded only when the command runs; BMC
 * passwords come from the environment, files or encrypted values, never from argv.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HA engine of a bare-metal KVM cluster from a cluster file (YAML or JSON)')
    .requiredOption(
      '--config <file>',
      'the cluster file: ha settings, zones/pods/clusters, hosts with agent URL and BMC',
    )
    .option('--json', 'print every event as a JSON line on stdout')
    .option('--tls-ca <file>', "PEM CA that verifies https:// agents (overrides the cluster file's agentTls.caFile)")
    .option('--ms-id <id>', "this management server's id (one of the cluster file's servers:)")
    .option(
      '--observe-only',
      'check and decide, but send no power command and no arm/disarm: each command is a would.power.action event',
    )
    .action(async (opts: { config: string; json?: boolean; tlsCa?: string; msId?: string; observeOnly?: boolean }) => {
      const { runServe } = await import('../standalone/run-serve.js');
      process.exitCode = await runServe(opts);
    });
}
