import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One measured side of the benchmark. */
export interface Side {
  readonly name: string;
  readonly ops: number;
  readonly wallMs: number;
  /** Per-op latencies in ms. */
  readonly latencies: number[];
  /** Client CPU (ms) spent for all ops. */
  readonly clientCpuMs: number;
  /** Server CPU (ms) for all ops. */
  readonly serverCpuMs: number;
  /** Requests, connections and sessions the servers saw during the side. */
  readonly server?: ServerCounters;
}

/** Summed counters of the simulated BMCs. */
export interface ServerCounters {
  readonly requests: number;
  readonly connections: number;
  readonly sessionsCreated: number;
}

/** Percentile `p` (0–100) of `xs`. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Operations per second of a side. */
export const opsPerSec = (s: Side): number => (s.ops * 1000) / s.wallMs;

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms used by a process (self) and by its waited-for children, from /proc. */
export function procCpu(pid: number | 'self' = 'self'): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after ")": state(0) … utime(11) stime(12) cutime(13) cstime(14)
  return { self: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS };
}

/** Runs a program (no shell) with `stdin`; resolves with its exit code and output. */
export function exec(
  cmd: string,
  args: string[],
  stdin: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
    child.stdin?.end(stdin);
  });
}

/** Prints the sides as a table. */
export function report(title: string, sides: Side[]): void {
  console.log(`\n${title}`);
  console.log(
    'side'.padEnd(52),
    'ops'.padStart(6),
    'ops/s'.padStart(9),
    'p50 ms'.padStart(9),
    'p99 ms'.padStart(9),
    'cpu/op ms'.padStart(10),
    'srv cpu/op'.padStart(11),
    'conn/op'.padStart(8),
    'login/op'.padStart(9),
  );
  for (const s of sides) {
    console.log(
      s.name.padEnd(52),
      String(s.ops).padStart(6),
      opsPerSec(s).toFixed(1).padStart(9),
      percentile(s.latencies, 50).toFixed(2).padStart(9),
      percentile(s.latencies, 99).toFixed(2).padStart(9),
      (s.clientCpuMs / s.ops).toFixed(3).padStart(10),
      (s.serverCpuMs / s.ops).toFixed(3).padStart(11),
      (s.server ? (s.server.connections / s.ops).toFixed(3) : '').padStart(8),
      (s.server ? (s.server.sessionsCreated / s.ops).toFixed(3) : '').padStart(9),
    );
  }
}
