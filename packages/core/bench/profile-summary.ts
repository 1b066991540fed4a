import { Session } from 'node:inspector/promises';

/** One line of a CPU profile's self-time summary. */
export interface SelfTime {
  /** Function name and where it lives (`file:line`, shortened to the package). */
  readonly fn: string;
  /** Share of every sample of the window, idle included (%). */
  readonly pct: number;
  /** Share of the busy samples (idle excluded, %). */
  readonly busyPct: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
}

/** Starts the V8 CPU profiler; the returned function stops it and returns the profile. */
export async function startCpuProfile(): Promise<() => Promise<Profile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile as unknown as Profile;
  };
}

/**
 * The `top` functions by self time, counted in samples. Samples are not weighted by their time deltas: on a busy
 * machine the sampler is descheduled too, and the delta of the sample after such a gap would charge the whole gap to
 * whatever ran then.
 */
export function selfTimeTop(profile: Profile, top = 10): SelfTime[] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFn = new Map<string, number>();
  const samples = profile.samples ?? [];
  let total = 0;
  let idle = 0;
  samples.forEach((id) => {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    const url = frame.url.replace(/^.*\/packages\//, '').replace(/^.*\/node_modules\//, '');
    const fn = `${frame.functionName || '(anonymous)'}${url ? ` ${url}:${frame.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + 1);
    total++;
    if (frame.functionName === '(idle)') idle++;
  });
  const busy = Math.max(1, total - idle);
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, t]) => ({ fn, pct: (t / Math.max(1, total)) * 100, busyPct: fn === '(idle)' ? 0 : (t / busy) * 100 }));
}
