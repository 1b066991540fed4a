import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { HAFENCE_BIN } from './power-sim-helper.js';

/** A `hafence` child process in its own process group, its output captured line by line. */
export class HafenceProcess {
  readonly stdoutLines: string[] = [];
  stderr = '';
  /** `/proc/<pid>/cmdline` (argv as `ps` shows it) as last read by {@link HafenceProcess.readCmdline}. */
  cmdline = '';
  exitCode: number | null | undefined = undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private readonly lineListeners: Array<(line: string) => void> = [];
  private partial = '';

  /** Spawns `node bin.js ARGS` with `env` added to this process's environment. */
  constructor(
    readonly name: string,
    args: readonly string[],
    env: Record<string, string> = {},
  ) {
    this.child = spawn(process.execPath, [HAFENCE_BIN, ...args], {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Reads `/proc/<pid>/cmdline` of the live process and keeps it (for checks after it is gone). */
  readCmdline(): string {
    if (this.alive) this.cmdline = readCmdline(this.pid) || this.cmdline;
    return this.cmdline;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** stdout lines parsed as JSON (non-JSON lines skipped). */
  json<T = Record<string, unknown>>(): T[] {
    const out: T[] = [];
    for (const line of this.stdoutLines) {
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        /* not an event line */
      }
    }
    return out;
  }

  /** Sends `signal` to the process itself (`kill -9 PID` with SIGKILL). */
  kill(signal: NodeJS.Signals): void {
    if (this.alive) process.kill(this.pid, signal);
  }

  /** SIGKILL to the whole process group; never throws. */
  killGroup(): void {
    if (!this.alive) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /**
   * Calls `listener` with every stdout line from now on, as it arrives (before any poll of
   * {@link HafenceProcess.stdoutLines} could see it): to act on a line at once, e.g. `kill -9`.
   */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  /** Resolves with the exit code, or rejects after `ms`. */
  async waitExit(ms: number): Promise<number | null> {
    return withTimeout(this.exited, ms, `${this.name} did not exit within ${ms} ms`);
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts.filter((l) => l.length > 0)) {
      this.stdoutLines.push(line);
      for (const listener of this.lineListeners) listener(line);
    }
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Polls `check` every 50 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, ms: number, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}

/** When this process last handed out each port: a port chosen but not yet bound is not free to give again. */
const handedOut = new Map<number, number>();
const REUSE_AFTER_MS = 120_000;

/**
 * `count` TCP ports on 127.0.0.1 in 9500–9599 that are free right now, from a random start.
 * A port this process handed out in the last two minutes is skipped while others are free:
 * a test often picks its API port, then starts agents on ports picked after it, before
 * anything listens on the first (a second pick could return the same port: EADDRINUSE).
 */
export async function freePorts(count: number): Promise<number[]> {
  const now = Date.now();
  const fresh: number[] = [];
  const reused: number[] = [];
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100 && fresh.length < count; i++) {
    const port = 9500 + ((start + i) % 100);
    if (!(await isFree(port))) continue;
    const at = handedOut.get(port);
    if (at !== undefined && now - at < REUSE_AFTER_MS) reused.push(port);
    else fresh.push(port);
  }
  reused.sort((a, b) => handedOut.get(a)! - handedOut.get(b)!);
  const found = [...fresh, ...reused].slice(0, count);
  if (found.length < count) throw new Error('not enough free ports in 9500-9599');
  for (const port of found) handedOut.set(port, now);
  return found;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Where the e2e agents of one cluster run: the shared mount, the token file and each host's agent URL. */
export interface E2eAgentSetup {
  readonly mount: string;
  readonly tokenFile: string;
  /** Agent URL (`http://127.0.0.1:PORT`) of every host of the cluster, its peers included. */
  readonly urls: ReadonlyMap<string, string>;
}

/**
 * Starts `hafence agent` for `host` as the e2e tests run it: no watchdog, no VM stopping,
 * 1 s heartbeats, self-fence after 30 s, every other host of `setup.urls` as a peer.
 * `extraArgs` are appended (e.g. `--vm-inventory file:…`).
 */
export function startE2eAgent(host: string, setup: E2eAgentSetup, extraArgs: readonly string[] = []): HafenceProcess {
  const peers = [...setup.urls].filter(([h]) => h !== host).flatMap(([h, url]) => ['--peer', `${h}=${url}`]);
  return new HafenceProcess(`agent ${host}`, [
    'agent',
    '--host-id',
    host,
    '--mount',
    setup.mount,
    '--listen',
    setup.urls.get(host)!.replace('http://', ''),
    '--token-file',
    setup.tokenFile,
    ...peers,
    '--watchdog',
    'none',
    '--stop-vms',
    'none',
    '--heartbeat-interval',
    '1s',
    '--self-fence-after',
    '30s',
    ...extraArgs,
  ]);
}

/** What {@link e2eClusterYaml} needs of each host: its agent URL and its SimBmc's UDP port. */
export interface E2eHost {
  readonly id: string;
  readonly agentUrl: string;
  readonly bmcPort: number;
}

/**
 * The cluster file of the real-process e2e tests: one cluster, fast checks (1 s health,
 * 2 s activity window), BMC passwords from `E2E_BMC_PW`. `extraDefaults` and `extraKvm`
 * are YAML lines added to `ha.defaults` and to `kvm`.
 */
export function e2eClusterYaml(
  hosts: readonly E2eHost[],
  tokenFile: string,
  extra: { defaults?: readonly string[]; kvm?: string } = {},
): string {
  const list = hosts
    .map(
      (h) => `  ${h.id}:
    cluster: c1
    agent: { url: "${h.agentUrl}" }
    bmc: { address: 127.0.0.1, port: ${h.bmcPort}, username: admin, passwordEnv: E2E_BMC_PW, cipherSuite: 17 }`,
    )
    .join('\n');
  return `ha:
  startupGrace: 0
  powerSyncInterval: 1s
  defaults:
    healthCheckInterval: 1s
    healthCheckTimeout: 5s
    maxUnhealthyFraction: 0.7   # 3 hosts: one slow health reply beside the suspect must not trip the storm guard on a loaded machine
    activityCheckInterval: 2s
    maxActivityCheckInterval: 4s
    activityCheckTimeout: 15s
    inactiveChecksToRecover: 2
    recoverTimeout: 40s
    recoverRetryDelay: 2s
    powerOpTimeout: 5s
    powerOffVerifyTimeout: 15s
    quietPeriod: 30s
${(extra.defaults ?? []).map((l) => `    ${l}\n`).join('')}kvm: { heartbeatInterval: 1s, activityWindow: 2s, replyTimeout: 5s, powerPoll: 250ms${extra.kvm ? `, ${extra.kvm}` : ''} }
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
${list}
`;
}

/**
 * Writes the last 40 lines of every child's stderr and of serve's stdout (status lines left out): for a failed test.
 */
export function dumpChildren(children: readonly HafenceProcess[], serve: HafenceProcess): void {
  const tail = (text: string) => text.split('\n').slice(-40).join('\n');
  for (const c of children)
    process.stderr.write(`--- ${c.name} (exit ${String(c.exitCode)}) stderr:\n${tail(c.stderr)}\n`);
  process.stderr.write(
    `--- serve stdout:\n${tail(serve.stdoutLines.filter((l) => !l.includes('"status"')).join('\n'))}\n`,
  );
}

/**
 * Calls `boot` once the simulated chassis was switched off and then on again (the host
 * "boots": the test restarts its agent). Returns the interval, to clear on teardown.
 */
export function onPowerCycle(
  chassis: { readonly log: readonly string[]; readonly power: string },
  boot: () => void,
): NodeJS.Timeout {
  const watch = setInterval(() => {
    const off = chassis.log.indexOf('off');
    if (off >= 0 && chassis.log.indexOf('on', off) > off && chassis.power === 'ON') {
      clearInterval(watch);
      boot();
    }
  }, 50);
  return watch;
}
