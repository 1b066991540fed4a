// Benchmark: `hafence serve` managing N simulated hosts over real loopback sockets.
//
// This process is the helper: N SimBmcs (IPMI over UDP) and N real host agents (HTTP, the
// `HostAgent` of @hafence/provider-kvm, heartbeats on a shared folder, no watchdog) in ONE
// process. `hafence serve --json` runs in its own process with default settings on a
// generated cluster file (clusters of BENCH_CLUSTER_SIZE hosts). Per N it reports serve's
// CPU (% of one core) and peak RSS (from /proc), its event-loop delay p99 (a preloaded
// probe, see loop-probe.ts: the product is unchanged), its descriptors, UDP datagrams and
// HTTP connections per host per minute (counted at the simulators and agent servers), the
// cold start to every host AVAILABLE and the transitions per host on the way, and
// crash→released (one host's agent killed: its server and connections closed, its
// heartbeat stopped; serve powers the host off, reads it back OFF and releases it).
//
// Env: BENCH_SERVE_HOSTS (default "500,2000,5000"), BENCH_SETTLE_SECONDS (20),
// BENCH_SECONDS (60), BENCH_CLUSTER_SIZE (50), BENCH_SKIP_CRASH=1.
// Descriptors: the helper needs ~3 × N (a UDP socket and a listening socket per host, a
// connection per host while keep-alive holds it) and serve ~2 × N: the bench checks the
// soft limit (`ulimit -n`) and refuses to start below 3.5 × N + 512.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret } from '@hafence/core';
import { SimBmc } from '@hafence/power-ipmi/sim';
import { HostAgent, NO_WATCHDOG } from '@hafence/provider-kvm';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', '..', 'dist', 'bin.js');
const PROBE = join(here, 'loop-probe.js');
const PASSWORD = 'bench-bmc-pw';
const TOKEN = 'bench-agent-token-0123456789abcdef';
/** monitorEventLoopDelay's resolution in the probe: an idle loop reads this much. */
const PROBE_RESOLUTION_MS = 10;

const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
};
const SIZES = (process.env.BENCH_SERVE_HOSTS ?? '500,2000,5000').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_SERVE_HOSTS: ${s} is not a host count ≥ 2`);
  return n;
});
const SETTLE_S = envNumber('BENCH_SETTLE_SECONDS', 20);
const WINDOW_S = envNumber('BENCH_SECONDS', 60);
const CLUSTER_SIZE = Math.max(2, envNumber('BENCH_CLUSTER_SIZE', 50));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ServeEvent {
  t: number;
  type: string;
  resource?: string;
  host?: string;
  to?: string;
}

interface Result {
  n: number;
  coldStartS: number;
  coldStartCpuS: number;
  transitionsPerHost: number;
  unsupportedHosts: number;
  cpuPct: number;
  peakRssMb: number;
  rssMb: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  gcCount: number;
  gcMaxMs: number;
  fds: number;
  udpPerHostMin: number;
  connPerHostMin: number;
  reqPerHostMin: number;
  suspectToReleasedS?: number;
  killToReleasedS?: number;
  load: string;
}

/** The serve child: its events as they arrive, the tail of its stderr. */
class Serve {
  readonly child: ChildProcess;
  readonly state = new Map<string, string>();
  readonly transitions = new Map<string, number>();
  readonly unsupported = new Set<string>();
  readonly released: ServeEvent[] = [];
  readonly suspect = new Map<string, number>();
  available = 0;
  stderr = '';
  exit: number | null | undefined = undefined;
  private partial = '';

  constructor(configFile: string, probeFile: string) {
    this.child = spawn(process.execPath, ['--import', PROBE, BIN, 'serve', '--config', configFile, '--json'], {
      env: { ...process.env, E2E_BMC_PW: PASSWORD, HAFENCE_LOOP_PROBE: probeFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => this.onStdout(c));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.stderr = (this.stderr + c).slice(-8192);
    });
    this.child.once('exit', (code) => (this.exit = code));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onStdout(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let e: ServeEvent;
      try {
        e = JSON.parse(line) as ServeEvent;
      } catch {
        continue;
      }
      if (e.type === 'resource.transition' && e.resource !== undefined && e.to !== undefined) {
        const before = this.state.get(e.resource);
        if (before === 'AVAILABLE') this.available--;
        if (e.to === 'AVAILABLE') this.available++;
        this.state.set(e.resource, e.to);
        this.transitions.set(e.resource, (this.transitions.get(e.resource) ?? 0) + 1);
        if (e.to === 'UNSUPPORTED') this.unsupported.add(e.resource);
        if (e.to === 'SUSPECT' && !this.suspect.has(e.resource)) this.suspect.set(e.resource, e.t);
      } else if (e.type === 'workloads.released') {
        this.released.push(e);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.exit !== undefined) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

function nofileSoftLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/** utime + stime of `pid`, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** `VmHWM` and `VmRSS` of `pid`, MB. */
function memoryMb(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** How many hosts are in each state, e.g. `AVAILABLE 480, INITIALIZING 20` (for progress and failures). */
function states(serve: Serve, n: number): string {
  const count = new Map<string, number>([['(no transition yet)', n - serve.state.size]]);
  for (const s of serve.state.values()) count.set(s, (count.get(s) ?? 0) + 1);
  return [...count]
    .filter(([, c]) => c > 0)
    .map(([s, c]) => `${s} ${c}`)
    .join(', ');
}

async function waitUntil(what: string, ms: number, serve: Serve, n: number, done: () => boolean): Promise<void> {
  const started = Date.now();
  let shown = started;
  while (!done()) {
    const fail = (why: string) => new Error(`${why} while waiting for ${what} (${states(serve, n)}):\n${serve.stderr}`);
    if (serve.exit !== undefined) throw fail(`serve exited ${serve.exit}`);
    if (Date.now() > started + ms) throw fail(`timed out after ${ms} ms`);
    if (Date.now() - shown >= 15_000) {
      shown = Date.now();
      console.log(`  … ${Math.round((shown - started) / 1000)} s: ${states(serve, n)} (load ${load()})`);
    }
    await sleep(50);
  }
}

function clusterFile(hosts: readonly { id: string; url: string; bmcPort: number }[], tokenFile: string): string {
  const clusters = Math.ceil(hosts.length / CLUSTER_SIZE);
  const list = hosts
    .map(
      (h, i) => `  ${h.id}:
    cluster: c${Math.floor(i / CLUSTER_SIZE) + 1}
    agent: { url: "${h.url}" }
    bmc: { address: 127.0.0.1, port: ${h.bmcPort}, username: admin, passwordEnv: E2E_BMC_PW, cipherSuite: 17 }`,
    )
    .join('\n');
  const cs = Array.from({ length: clusters }, (_, i) => `  c${i + 1}: { pod: p1 }`).join('\n');
  // Default settings, but startupGrace 0: the crash comes long before the default 5 minutes end.
  return `ha:
  startupGrace: 0
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters:
${cs}
hosts:
${list}
`;
}

async function run(n: number): Promise<Result> {
  const need = Math.ceil(3.5 * n + 512);
  const soft = nofileSoftLimit();
  if (soft < need)
    throw new Error(`N=${n} needs a descriptor limit of at least ${need} (ulimit -n is ${soft}): raise it first`);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-serve-bench-'));
  const tokenFile = join(dir, 'agent.token');
  const mount = join(dir, 'mount');
  const probeFile = join(dir, 'probe.json');
  mkdirSync(mount);
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  const ids = Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(5, '0')}`);
  const bmcs: SimBmc[] = [];
  const agents: HostAgent[] = [];
  const counts = { connections: 0, requests: 0 };
  let serve: Serve | undefined;
  try {
    const users = [{ name: 'admin', password: PASSWORD, privilege: 4 }];
    for (let i = 0; i < n; i++) bmcs.push(await SimBmc.start({ users, power: 'ON' }));
    const token = new Secret(TOKEN);
    const hosts: { id: string; url: string; bmcPort: number }[] = [];
    for (const [i, id] of ids.entries()) {
      const agent = new HostAgent({ hostId: id, mount, token, watchdog: NO_WATCHDOG, listen: { port: 0 } });
      const address = await agent.start();
      const server = (agent as unknown as { server: Server }).server; // counted here, not changed
      server.on('connection', () => counts.connections++);
      server.on('request', () => counts.requests++);
      agents.push(agent);
      hosts.push({ id, url: `http://127.0.0.1:${address.port}`, bmcPort: bmcs[i]!.port });
    }
    const configFile = join(dir, 'cluster.yaml');
    writeFileSync(configFile, clusterFile(hosts, tokenFile));

    const started = performance.now();
    serve = new Serve(configFile, probeFile);
    const s = serve;
    await waitUntil('every host AVAILABLE', 60_000 + 100 * n, s, n, () => s.available === n);
    const coldStartS = (performance.now() - started) / 1000;
    const coldStartCpuS = cpuSeconds(s.pid);
    const transitions = [...s.transitions.values()].reduce((a, b) => a + b, 0);
    const unsupportedHosts = s.unsupported.size;

    await sleep(SETTLE_S * 1000);
    const udp0 = bmcs.reduce((a, b) => a + b.stats.received, 0);
    const conn0 = counts.connections;
    const req0 = counts.requests;
    const cpu0 = cpuSeconds(s.pid);
    writeFileSync(`${probeFile}.reset`, String(Date.now()));
    const t0 = performance.now();
    let fds = 0;
    while (performance.now() - t0 < WINDOW_S * 1000) {
      if (s.exit !== undefined) throw new Error(`serve exited ${s.exit}:\n${s.stderr}`);
      fds = Math.max(fds, fdCount(s.pid));
      await sleep(Math.min(5_000, WINDOW_S * 1000 - (performance.now() - t0)));
    }
    await sleep(1_100); // the probe's last write covers the whole window
    const seconds = (performance.now() - t0) / 1000;
    const cpuPct = ((cpuSeconds(s.pid) - cpu0) / seconds) * 100;
    const mem = memoryMb(s.pid);
    fds = Math.max(fds, fdCount(s.pid));
    const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as {
      p50: number;
      p99: number;
      max: number;
      gc: { count: number; maxMs: number };
    };
    const perHostMin = (d: number) => d / n / (seconds / 60);
    const result: Result = {
      n,
      coldStartS,
      coldStartCpuS,
      transitionsPerHost: transitions / n,
      unsupportedHosts,
      cpuPct,
      peakRssMb: mem.peak,
      rssMb: mem.now,
      loopP50Ms: probe.p50 - PROBE_RESOLUTION_MS,
      loopP99Ms: probe.p99 - PROBE_RESOLUTION_MS,
      loopMaxMs: probe.max - PROBE_RESOLUTION_MS,
      gcCount: probe.gc.count,
      gcMaxMs: probe.gc.maxMs,
      fds,
      udpPerHostMin: perHostMin(bmcs.reduce((a, b) => a + b.stats.received, 0) - udp0),
      connPerHostMin: perHostMin(counts.connections - conn0),
      reqPerHostMin: perHostMin(counts.requests - req0),
      load: load(),
    };

    if (process.env.BENCH_SKIP_CRASH !== '1') {
      const victim = ids[Math.floor(n / 2)]!;
      const killedAt = performance.now();
      await agents[Math.floor(n / 2)]!.stop(); // as kill -9: server and connections gone, no more heartbeats
      await waitUntil(`${victim} released`, 600_000, s, n, () => s.released.some((e) => e.resource === victim));
      const released = s.released.find((e) => e.resource === victim)!;
      result.killToReleasedS = (performance.now() - killedAt) / 1000;
      const suspectAt = s.suspect.get(victim);
      if (suspectAt !== undefined) result.suspectToReleasedS = (released.t - suspectAt) / 1000;
    }
    return result;
  } finally {
    await serve?.stop();
    await Promise.allSettled(agents.map((a) => a.stop()));
    await Promise.allSettled(bmcs.map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(results: readonly Result[]): string {
  const f = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  const rows: [string, (r: Result) => string][] = [
    ['hosts', (r) => String(r.n)],
    ['serve CPU, % of one core', (r) => f(r.cpuPct)],
    ['serve peak RSS, MB (VmHWM)', (r) => f(r.peakRssMb, 0)],
    ['serve RSS at window end, MB', (r) => f(r.rssMb, 0)],
    ['event-loop delay p50 / p99 / max, ms', (r) => `${f(r.loopP50Ms)} / ${f(r.loopP99Ms)} / ${f(r.loopMaxMs)}`],
    ['GC pauses in window / longest, ms', (r) => `${r.gcCount} / ${f(r.gcMaxMs)}`],
    ['serve descriptors (max sampled)', (r) => String(r.fds)],
    ['UDP datagrams per host per minute', (r) => f(r.udpPerHostMin, 2)],
    ['HTTP connections per host per minute', (r) => f(r.connPerHostMin, 2)],
    ['HTTP requests per host per minute', (r) => f(r.reqPerHostMin, 2)],
    ['cold start → all AVAILABLE, s', (r) => f(r.coldStartS)],
    ['  serve CPU during cold start, s', (r) => f(r.coldStartCpuS)],
    ['  transitions per host', (r) => f(r.transitionsPerHost, 2)],
    ['  hosts that went UNSUPPORTED', (r) => String(r.unsupportedHosts)],
    ['crash: SUSPECT → workloads.released, s', (r) => f(r.suspectToReleasedS)],
    ['crash: agent killed → workloads.released, s', (r) => f(r.killToReleasedS)],
    ['load average at window end', (r) => r.load],
  ];
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const cells = rows.map(([k, g]) => [k, ...results.map(g)] as string[]);
  const widths = results.map((_, i) => Math.max(...cells.map((c) => c[i + 1]!.length)));
  return cells
    .map((c) => [c[0]!.padEnd(w0), ...c.slice(1).map((v, i) => v.padStart(widths[i]!))].join('  '))
    .join('\n');
}

const results: Result[] = [];
console.log(
  `hafence serve over real loopback sockets (default settings, startupGrace 0, clusters of ${CLUSTER_SIZE}; ` +
    `settle ${SETTLE_S} s, window ${WINDOW_S} s; ${process.env.BENCH_SKIP_CRASH === '1' ? 'no crash' : 'one crash'})`,
);
for (const n of SIZES) {
  console.log(`\nN=${n}: starting (load ${load()})…`);
  results.push(await run(n));
  if (SIZES.length > 1) console.log(table(results.slice(-1)));
}
console.log(`\n${table(results)}`);
console.log(
  '\nevent-loop delay: monitorEventLoopDelay (10 ms resolution) preloaded into serve, minus the resolution; ' +
    'datagrams, connections and requests are counted at the simulated BMCs and agent servers.',
);
