import type { Command } from 'commander';

/** Options of `hafence agent`, as parsed from the command line. */
export interface AgentCommandOptions {
  readonly hostId: string;
  readonly mount: string;
  readonly listen: string;
  readonly tokenFile: string;
  readonly peerTokenFile?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsClientCa?: string;
  readonly tlsCa?: string;
  readonly peer: readonly string[];
  readonly dir: string;
  readonly heartbeatInterval: string;
  readonly selfFenceAfter: string;
  readonly watchdog: 'auto' | 'device' | 'softdog' | 'none';
  readonly armed?: boolean;
  readonly stopVms: 'virsh' | 'none';
  readonly vmInventory: string;
  readonly watchdogDevice: string;
  readonly maxConnections?: string;
  readonly maxConnectionsPerAddress?: string;
  readonly logLevel?: string;
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

/**
 * Registers `hafence agent`: the host agent of docs/behaviour.md#kvm-hosts (heartbeat on the shared mount,
 * token-authenticated management server, self-fence only when isolated). The agent is
 * loaded only when the command runs; the token is read from a file, never from argv.
 */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the KVM host agent: heartbeat on the shared mount, management server, watchdog self-fence')
    .requiredOption('--host-id <id>', "this host's id (as the management server knows it)")
    .requiredOption('--mount <dir>', 'the shared (NFS) pool mount')
    .requiredOption('--listen <addr>', 'management server address, HOST:PORT (a bare PORT binds to 127.0.0.1)')
    .requiredOption(
      '--token-file <file>',
      "file holding the management server's bearer token (never pass the token itself)",
    )
    .option(
      '--peer-token-file <file>',
      "file holding the peer agents' token: accepted only on peer routes, sent to peers (without it, --token-file serves both)",
    )
    .option(
      '--tls-cert <file>',
      'serve HTTPS with this PEM certificate (with --tls-key); also presented to peers that require client certificates',
    )
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (mode 0600)')
    .option('--tls-client-ca <file>', 'require a client certificate signed by this PEM CA (needs --tls-cert)')
    .option('--tls-ca <file>', 'PEM CA that verifies https:// peers (default: the system CAs)')
    .option('--peer <id=url>', 'a peer agent, e.g. h2=https://10.0.0.2:7070 (repeatable)', collect, [])
    .option('--dir <name>', 'heartbeat folder inside the mount', 'hafence')
    .option('--heartbeat-interval <duration>', 'heartbeat write and watchdog feed interval', '10s')
    .option('--self-fence-after <duration>', 'isolation lasting this long triggers the self-fence', '60s')
    .option('--watchdog <kind>', 'auto | device | softdog | none', 'auto')
    .option('--watchdog-device <path>', 'the watchdog device opened by --watchdog device|auto', '/dev/watchdog')
    .option(
      '--max-connections <n>',
      'open connections served at once (default: the descriptor limit minus a reserve for the heartbeat, at most 256)',
    )
    .option('--max-connections-per-address <n>', 'open connections from one source address (default 16)')
    .option('--armed', 'start armed (HA enabled for this host) instead of waiting for the management server')
    .option('--stop-vms <how>', 'how VMs are stopped before a self-fence: virsh | none', 'virsh')
    .option(
      '--vm-inventory <how>',
      'where the running VMs\' volumes are listed for activity checks: virsh | file:PATH (JSON {"vm": ["/volume", …]}) | none',
      'virsh',
    )
    .option('--log-level <level>', 'debug | info | warn | error (default: HAFENCE_LOG_LEVEL, else info)')
    .action(async (opts: AgentCommandOptions) => {
      const { runAgent } = await import('./agent-run.js');
      const code = await runAgent(opts);
      // A file operation hung on a dead NFS server would keep the process alive after the
      // agent stopped; a service manager would then SIGKILL it (and an armed watchdog reset
      // the host). Leave as soon as what was written to stderr is out.
      process.stderr.write('', () => process.exit(code));
    });
}
