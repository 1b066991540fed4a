/** What the floor reports per check start: when it was due and when it started (ms). */
export type FloorProbe = (dueAt: number, startedAt: number) => void;

/**
 * The floor the engine is compared with (issue 13): bare Node timers plus a trivial async
 * check per resource — the same N, the same interval and ±10 % jitter as the engine, and a check
 * that waits the provider's latency on a Node timer. No scheduler, no records, no FSM.
 * Returns a function that stops every timer.
 */
export function startFloor(resources: number, intervalMs: number, latencyMs: number, probe: FloorProbe): () => void {
  const now = () => Math.floor(performance.timeOrigin + performance.now());
  const timers: NodeJS.Timeout[] = new Array<NodeJS.Timeout>(resources);
  let stopped = false;
  const check = () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), latencyMs));
  const arm = (i: number, due: number) => {
    timers[i] = setTimeout(
      () => {
        if (stopped) return;
        const started = now();
        probe(due, started);
        const next = Math.max(started, due + Math.round(intervalMs * (0.9 + 0.2 * Math.random())));
        arm(i, next);
        check().catch(() => undefined);
      },
      Math.max(0, due - now()),
    );
  };
  const t0 = now();
  for (let i = 0; i < resources; i++) {
    arm(i, t0 + Math.floor(Math.random() * intervalMs));
  }
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
  };
}
