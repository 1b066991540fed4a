import { Argument, InvalidArgumentError, type Command } from 'commander';

const ACTIONS = ['status', 'on', 'off', 'soft', 'cycle', 'reset', 'identify', 'validate'];

function int(min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new InvalidArgumentError(`must be an integer ${min}-${max}`);
    return Number(v);
  };
}

const collect = (v: string, all: string[] = []) => [...all, v];

/**
 * Adds `hafence power ACTION` to the program. Exit codes: 0 ok, 1 other failure,
 * 2 usage or config error, 3 authentication refused, 4 timeout or unreachable,
 * 5 protocol error (with `--targets`, the worst of all).
 */
export function registerPowerCommand(program: Command): void {
  program
    .command('power')
    .description('run a power action on a BMC (or on every BMC of --targets) through a power driver')
    .addArgument(new Argument('<action>', 'power action').choices(ACTIONS))
    .option('--driver <name>', 'power driver: script, ipmi or redfish', 'script')
    .option('--preset <preset>', 'script preset: ipmitool, fence-agent or custom', 'ipmitool')
    .option('--agent <fence_agent>', 'fence agent of the fence-agent preset', 'fence_ipmilan')
    .option('--host <host>', 'BMC address (host or host:port)')
    .option('--port <port>', 'BMC port (IPMI UDP 623, Redfish HTTPS 443)', int(1, 65535))
    .option('--targets <file>', 'file with one host[:port] a line; all share the credentials')
    .option('--concurrency <n>', 'BMCs handled at once with --targets', int(1, 1000), 16)
    .option('--username <user>', 'BMC user')
    .option('--password-env <var>', 'environment variable holding the password')
    .option('--password-file <file>', 'file whose first line is the password')
    .option('--password-encrypted <value>', 'AES-256-GCM value (v1:…); key from HAFENCE_SECRET_KEY')
    .option('--cipher <n>', 'IPMI cipher suite (default 17; 0 refused)', int(0, 255))
    .option('--timeout-ms <ms>', 'timeout of one power operation', int(1, 3_600_000))
    .option('--seconds <n>', 'identify: how long to blink', int(0, 255), 15)
    .option('--command <path>', 'custom preset: the executable')
    .option(
      '--arg <template>',
      'custom preset: one argv template ({action} {address} {port} {username}); repeatable',
      collect,
    )
    .option(
      '--password-var <name>',
      'custom preset: environment variable that carries the password',
      'HAFENCE_PASSWORD',
    )
    .option('--system-id <id>', 'redfish: the system Id when the BMC manages several')
    .option('--ca-file <file>', 'redfish: PEM file of the CA that signed the BMC certificate')
    .option('--insecure-tls', 'redfish: accept a self-signed BMC certificate without verification (warned)')
    .option('--basic-auth', 'redfish: use HTTP Basic when the BMC has no session login')
    .option('--json', 'print JSON')
    .action(async (action: string, opts: Record<string, unknown>) => {
      const { runPower } = await import('../power/run-power.js');
      process.exitCode = await runPower(action as never, opts as never);
    });
}
