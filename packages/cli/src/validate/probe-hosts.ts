import { PowerManagementService, systemClock, type Clock } from '@hafence/core';
import { Semaphore, redact } from '@hafence/core/internal';
import { agentRequest } from '@hafence/provider-kvm';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import type { ClusterFile } from '../standalone/cluster-schema.js';
import type { StandaloneWiring } from '../standalone/standalone-wiring.js';

/** What one probe found: the words of the `hafence validate --probe` table. */
export type ProbeResult = 'ok' | 'auth refused' | 'unreachable' | 'protocol error' | 'error' | 'not configured';

/** One side (BMC or agent) of one host's probe. */
export interface ProbeCell {
  readonly result: ProbeResult;
  /** A short reason, secrets removed (an error message, the power state read, what the agent said). */
  readonly detail?: string;
}

/** One row of the probe: a host, its BMC and its agent. */
export interface ProbeRow {
  readonly host: string;
  readonly cluster: string;
  readonly bmc: ProbeCell;
  readonly agent: ProbeCell;
}

/** Options of {@link probeHosts}. */
export interface ProbeOptions {
  /** Hosts probed at once (default 16). */
  readonly concurrency?: number;
  /** Longest wait for one BMC login + status read, or one agent answer (default 10 s; a host's `bmc.timeout` wins). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** The most characters of a detail shown. */
const MAX_DETAIL = 160;

/**
 * Probes every host of a resolved cluster file: logs in to its BMC through its configured
 * driver chain and reads the chassis power (a status read: never a power change; with
 * native IPMI a session and Get Chassis Status), and asks its agent's `GET /health` with
 * the agents' bearer token and TLS. Hosts are probed `concurrency` at a time, each
 * side bounded by its timeout; rows come back in the file's order.
 *
 * @example
 * const rows = await probeHosts(file, await resolveStandalone(file), { timeoutMs: 5_000 });
 */
export async function probeHosts(
  file: ClusterFile,
  wiring: StandaloneWiring,
  options: ProbeOptions = {},
): Promise<ProbeRow[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const power = new PowerManagementService({
    drivers: [...wiring.drivers],
    clock,
    config: { powerOpTimeout: timeoutMs },
  });
  const secrets = [wiring.token, ...[...wiring.bindings.values()].map((b) => b.target.password)];
  const limit = new Semaphore(options.concurrency ?? 16);
  try {
    return await Promise.all(
      Object.entries(file.hosts).map(([id, host]) =>
        limit.with(async () => {
          const [bmc, agent] = await Promise.all([
            probeBmc(power, id, wiring, secrets),
            probeAgent(id, host.agent?.url, wiring, { timeoutMs, clock }, secrets),
          ]);
          return { host: id, cluster: host.cluster, bmc, agent };
        }),
      ),
    );
  } finally {
    await power.close();
  }
}

/** The exit code of a probe: the worst of its cells, as `hafence power` (3 auth, 4 unreachable, 5 protocol). */
export function probeExitCode(rows: readonly ProbeRow[]): number {
  const codes = rows.flatMap((r) => [r.bmc, r.agent]).map((c) => CODES[c.result]);
  return codes.reduce((a, b) => Math.max(a, b), EXIT.ok);
}

const CODES: Record<ProbeResult, number> = {
  ok: EXIT.ok,
  'not configured': EXIT.ok,
  error: EXIT.failure,
  'auth refused': EXIT.auth,
  unreachable: EXIT.unreachable,
  'protocol error': EXIT.protocol,
};

async function probeBmc(
  power: PowerManagementService,
  id: string,
  wiring: StandaloneWiring,
  secrets: Parameters<typeof redact>[1],
): Promise<ProbeCell> {
  const binding = wiring.bindings.get(id);
  if (!binding?.target.address) return { result: 'not configured', detail: 'no BMC in the cluster file' };
  try {
    power.register(id, binding);
    const state = await power.status(id, { by: 'operator' });
    return { result: 'ok', detail: `power ${state.toLowerCase()}` };
  } catch (err) {
    return failed(err, secrets);
  }
}

async function probeAgent(
  id: string,
  url: string | undefined,
  wiring: StandaloneWiring,
  o: { timeoutMs: number; clock: Clock },
  secrets: Parameters<typeof redact>[1],
): Promise<ProbeCell> {
  if (!url) return { result: 'not configured', detail: 'no agent URL in the cluster file' };
  try {
    const answer = await agentRequest<unknown>(id, url, '/health', wiring.token, {
      method: 'GET',
      timeoutMs: o.timeoutMs,
      clock: o.clock,
      tls: wiring.tls,
      maxAnswerBytes: 64 * 1024,
    });
    const a = answer as { connected?: unknown; storageOk?: unknown; detail?: unknown } | null;
    if (!a || typeof a !== 'object' || typeof a.connected !== 'boolean')
      return { result: 'protocol error', detail: 'the /health answer is not an agent health (no connected flag)' };
    const notes = [
      ...(a.connected ? [] : ['agent reports it is not connected']),
      ...(a.storageOk === false ? ['heartbeat storage failing'] : []),
      ...(typeof a.detail === 'string' ? [a.detail] : []),
    ];
    return notes.length > 0 ? { result: 'ok', detail: short(redact(notes.join('; '), secrets)) } : { result: 'ok' };
  } catch (err) {
    return failed(err, secrets);
  }
}

function failed(err: unknown, secrets: Parameters<typeof redact>[1]): ProbeCell {
  const code = exitCodeFor(err);
  const result: ProbeResult =
    code === EXIT.auth
      ? 'auth refused'
      : code === EXIT.unreachable
        ? 'unreachable'
        : code === EXIT.protocol
          ? 'protocol error'
          : 'error';
  return { result, detail: short(redact(err instanceof Error ? err.message : String(err), secrets)) };
}

function short(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}
