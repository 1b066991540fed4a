import type { Command } from 'commander';
import type { ServeOptions } from '../standalone/run-serve.js';

/**
 * Registers `hafence serve --config FILE [--json] [--http ADDR:PORT …] [--observe-only]`: the standalone
 * management server of a bare-metal KVM cluster (HA engine, KVM provider over the hafence agents, power
 * service with native IPMI). The engine is loaded only when the command runs; BMC
 * passwords come from the environment, files or encrypted values, never from argv. With
 * `--http` it also serves the operator API (docs/operator-api.md).
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HA engine of a bare-metal KVM cluster from a cluster file (YAML or JSON)')
    .requiredOption(
      '--config <file>',
      'the cluster file: ha settings, zones/pods/clusters, hosts with agent URL and BMC',
    )
    .option('--log-level <level>', 'debug | info | warn | error (default: HAFENCE_LOG_LEVEL, else info)')
    .option('--json', 'print every event as a JSON line on stdout')
    .option('--tls-ca <file>', "PEM CA that verifies https:// agents (overrides the cluster file's agentTls.caFile)")
    .option('--ms-id <id>', "this management server's id (one of the cluster file's servers:)")
    .option(
      '--observe-only',
      'check and decide, but send no power command and no arm/disarm: each command is a would.power.action event',
    )
    .option('--http <addr:port>', 'serve the operator API, status page and /metrics here (e.g. 127.0.0.1:9440)')
    .option(
      '--http-token-file <file>',
      'API identities: NAME TOKEN per line (mode 0600); a bare token is NAME operator',
    )
    .option('--http-tls-cert <file>', 'serve HTTPS with this PEM certificate (required for a non-loopback address)')
    .option('--http-tls-key <file>', "the certificate's PEM private key (mode 0600)")
    .option(
      '--http-tls-ca <file>',
      "require client certificates signed by this CA; the certificate's CN is the identity",
    )
    .action(async (opts: ServeOptions) => {
      const { runServe } = await import('../standalone/run-serve.js');
      process.exitCode = await runServe(opts);
    });
}
