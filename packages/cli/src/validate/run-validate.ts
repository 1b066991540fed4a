import { ConfigError, type ConfigIssue } from '@hafence/core';
import { EXIT } from '../exit-codes.js';
import { loadClusterFile } from '../standalone/load-cluster-file.js';
import { checkServeStore } from '../standalone/open-store.js';
import { closeDrivers, resolveStandalone } from '../standalone/standalone-wiring.js';
import { probeExitCode, probeHosts, type ProbeRow } from './probe-hosts.js';
import { formatProbeTable } from './probe-table.js';

/** Options of `hafence validate`. */
export interface ValidateOptions {
  /** The cluster file (YAML or JSON). */
  readonly config: string;
  /** Log in to every BMC (status read) and ask every agent's health. */
  readonly probe?: boolean;
  /** JSON on stdout, the issues of a bad file too (the probe's answer is JSON whenever stdout is not a terminal). */
  readonly json?: boolean;
  /** As `serve --tls-ca`: the CA that verifies the agents. */
  readonly tlsCa?: string;
  /** Hosts probed at once. */
  readonly concurrency?: number;
  /** Per-host timeout of each probe (ms). */
  readonly timeoutMs?: number;
}

/** Where the command writes; the process streams by default. */
export interface ValidateIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (a table) or not (JSON). */
  readonly tty: boolean;
}

const processIo: ValidateIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stdout.isTTY === true,
};

/**
 * `hafence validate`: loads the cluster file and resolves every credential, certificate
 * and driver exactly as `hafence serve` does before it starts (nothing starts). A bad file
 * exits 2 naming every bad field (one a line on stderr, or in the JSON of `--json`); with
 * `--probe` every BMC and agent is asked, and the exit code is the worst of the probes
 * (3 auth refused, 4 unreachable or timeout, 5 protocol).
 */
export async function runValidate(options: ValidateOptions, io: ValidateIo = processIo): Promise<number> {
  const json = options.json === true || !io.tty;
  let rows: ProbeRow[] | undefined;
  let hosts: number;
  try {
    const file = loadClusterFile(options.config);
    const storeIssues = checkServeStore(file, options.config);
    const wiring = await resolveStandalone(file, { agentCaFile: options.tlsCa }).catch(async (err: unknown) => {
      throw err instanceof ConfigError ? new ConfigError([...storeIssues, ...err.issues]) : err;
    });
    if (storeIssues.length > 0) {
      await closeDrivers(wiring.drivers);
      throw new ConfigError(storeIssues);
    }
    hosts = Object.keys(file.hosts).length;
    if (options.probe === true)
      rows = await probeHosts(file, wiring, { concurrency: options.concurrency, timeoutMs: options.timeoutMs });
    else await closeDrivers(wiring.drivers);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    reportIssues(err.issues, options.config, options.json === true, io);
    return EXIT.usage;
  }
  const code = rows === undefined ? EXIT.ok : probeExitCode(rows);
  if (json) io.out(`${JSON.stringify({ valid: true, hosts, ...(rows ? { probe: rows } : {}), exitCode: code })}\n`);
  else if (rows) io.out(formatProbeTable(rows));
  else io.out(`${options.config}: valid (${hosts} host${hosts === 1 ? '' : 's'})\n`);
  return code;
}

function reportIssues(issues: readonly ConfigIssue[], config: string, json: boolean, io: ValidateIo): void {
  if (json) {
    const shown = issues.map((i) => ({ path: i.path, value: i.value, rule: i.rule }));
    io.out(`${JSON.stringify({ valid: false, issues: shown, exitCode: EXIT.usage })}\n`);
    return;
  }
  // One issue a line, as ConfigError formats it (values capped, secret fields redacted).
  io.err(`hafence validate: ${config}: ${issues.length} invalid field${issues.length === 1 ? '' : 's'}\n`);
  for (const issue of issues)
    io.err(`  ${new ConfigError([issue]).message.replace(/^\[HAF\d+\] invalid configuration: /, '')}\n`);
}
