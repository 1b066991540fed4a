import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Secret, type PowerTarget } from '@hafence/core';
import { RedfishPowerDriver } from '@hafence/power-redfish';
import { exec, opsPerSec, percentile, procCpu, report, type ServerCounters, type Side } from './measure.js';

// npm run bench: status (PowerState read) of 50 simulated Redfish BMCs (RedfishSim, in a separate process), with
// certificate verification on both sides: our driver (sessions and keep-alive connections reused) against
// fence_redfish one after another and 16 in parallel. BENCH_SECONDS, BENCH_FENCE_OPS scale the runs.
const COUNT = 50;
const PASSWORD = 'bench-rf-pw-3';
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const FENCE_OPS = Number(process.env.BENCH_FENCE_OPS ?? '32');
const CALL = { signal: new AbortController().signal, timeoutMs: 20000 };
setMaxListeners(0, CALL.signal); // one signal shared by 50 concurrent calls

interface Servers {
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  readonly ports: number[];
  counters(): Promise<ServerCounters>;
}

async function startServers(certFile: string): Promise<Servers> {
  const script = fileURLToPath(new URL('./redfish-sims-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, String(COUNT), certFile], {
    env: { ...process.env, RFSIM_PASSWORD: PASSWORD },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('the simulator process ended');
    return r.value as string;
  };
  const ports = (JSON.parse(await next()) as { port: number }[]).map((s) => s.port);
  return {
    child,
    ports,
    counters: async () => {
      child.stdin.write('\n');
      return JSON.parse(await next()) as ServerCounters;
    },
  };
}

function diff(a: ServerCounters, b: ServerCounters): ServerCounters {
  return {
    requests: b.requests - a.requests,
    connections: b.connections - a.connections,
    sessionsCreated: b.sessionsCreated - a.sessionsCreated,
  };
}

async function ours(servers: Servers, ca: string): Promise<Side> {
  const driver = new RedfishPowerDriver({ ca });
  const targets: PowerTarget[] = servers.ports.map((port) => ({
    host: `rf-${port}`,
    address: '127.0.0.1',
    port,
    username: 'admin',
    password: new Secret(PASSWORD),
  }));
  try {
    await Promise.all(targets.map((t) => driver.status(t, CALL))); // discovery and login, once per BMC
    const latencies: number[] = [];
    const c0 = await servers.counters();
    const cpu0 = process.cpuUsage();
    const srv0 = procCpu(servers.child.pid!).self;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    await Promise.all(
      targets.map(async (t) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const power = await driver.status(t, CALL);
          if (power !== 'ON') throw new Error(`status of ${t.host}: ${power}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    return {
      name: 'hafence RedfishPowerDriver, 50 BMCs, sessions reused',
      ops: latencies.length,
      wallMs,
      latencies,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: procCpu(servers.child.pid!).self - srv0,
      server: diff(c0, await servers.counters()),
    };
  } finally {
    await driver.close();
  }
}

async function fence(servers: Servers, certFile: string, parallel: number): Promise<Side> {
  const latencies: number[] = [];
  const c0 = await servers.counters();
  const cpu0 = procCpu().children;
  const srv0 = procCpu(servers.child.pid!).self;
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < FENCE_OPS) {
        const port = servers.ports[next++ % COUNT]!;
        const stdin = `action=status\nip=127.0.0.1\nipport=${port}\nusername=admin\npassword=${PASSWORD}\n`;
        const t0 = performance.now();
        const r = await exec('fence_redfish', [], stdin, { REQUESTS_CA_BUNDLE: certFile });
        if (r.code !== 0 || !r.out.includes('Status: ON')) throw new Error(`fence_redfish: ${r.code} ${r.out}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return {
    name: parallel === 1 ? 'fence_redfish, one after another' : `fence_redfish, ${parallel} in parallel`,
    ops: FENCE_OPS,
    wallMs: performance.now() - start,
    latencies,
    clientCpuMs: procCpu().children - cpu0,
    serverCpuMs: procCpu(servers.child.pid!).self - srv0,
    server: diff(c0, await servers.counters()),
  };
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const dir = await mkdtemp(join(tmpdir(), 'hafence-redfish-bench-'));
const certFile = join(dir, 'bmc-ca.pem');
const servers = await startServers(certFile);
try {
  console.log(
    `bench redfish on ${availableParallelism()} cores, node ${process.version}, ${new Date().toISOString()}, ` +
      `load average ${load()}`,
  );
  const a = await ours(servers, await readFile(certFile, 'utf8'));
  const seq = await fence(servers, certFile, 1);
  const par = await fence(servers, certFile, 16);
  report(`status of ${COUNT} RedfishSim BMCs (HTTPS, certificate verified)`, [a, seq, par]);
  const cpu = (s: Side): number => s.clientCpuMs / s.ops;
  console.log(
    `ours / fence_redfish sequential: ${(opsPerSec(a) / opsPerSec(seq)).toFixed(1)}× ops/s, ` +
      `${(percentile(seq.latencies, 50) / percentile(a.latencies, 50)).toFixed(1)}× lower p50, ` +
      `${(cpu(seq) / cpu(a)).toFixed(0)}× less client CPU per op`,
  );
  console.log(
    `ours / fence_redfish 16 parallel: ${(opsPerSec(a) / opsPerSec(par)).toFixed(1)}× ops/s, ` +
      `${(percentile(par.latencies, 50) / percentile(a.latencies, 50)).toFixed(1)}× lower p50, ` +
      `${(cpu(par) / cpu(a)).toFixed(0)}× less client CPU per op`,
  );
  console.log(`load average at the end: ${load()} (other processes on the machine compete with every side alike)`);
} finally {
  servers.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
