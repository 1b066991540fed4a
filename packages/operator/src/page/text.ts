// The page's words, shared by the server-side render and the browser script: `status-script.ts`
// embeds these functions' compiled source (`Function.prototype.toString`), so a row reads the
// same whether the server rendered it or the script updated it live. Each function may call
// only the others of this file, by name, and JavaScript built-ins; no imports, no closures.

/** A duration in words, at most two units: `4 s`, `2 min 5 s`, `3 h 10 min`, `2 d 1 h`. */
export function durationText(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const two = (a: number, ua: string, b: number, ub: string) => (b > 0 ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`);
  if (s < 60) return `${s} s`;
  if (s < 3600) return two(Math.floor(s / 60), 'min', s % 60, 's');
  if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
  return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

/** `at` relative to `now`: `in 4 s`, `12 s ago`, `now` (under half a second either way). */
export function relativeText(at: number, now: number): string {
  if (Math.abs(at - now) < 500) return 'now';
  return at > now ? `in ${durationText(at - now)}` : `${durationText(now - at)} ago`;
}

/** A deadline relative to `now`: `in 4 s`, or `due` once it has come (the work is due or under way). */
export function deadlineText(at: number, now: number): string {
  return at - now >= 500 ? `in ${durationText(at - now)}` : 'due';
}

/** What a resource's next deadline is, in words (`Waiting.for`). */
export function waitingLabel(what: string): string {
  const labels: Record<string, string> = {
    check: 'next check',
    activity: 'activity check',
    retry: 'recovery retry',
    quiet: 'end of quiet period',
    recheck: 'degraded re-check',
    lease: 'self-fence lease deadline',
  };
  return labels[what] ?? what;
}

/** The notes of a host row: maintenance, observe-only, release, episode, ownership. */
export function resourceNotes(
  r: {
    readonly healthy?: boolean | undefined;
    readonly eligible?: boolean | undefined;
    readonly maintenance?: {
      readonly inventory?: boolean | undefined;
      readonly operator?: { readonly by: string; readonly at: number; readonly reason?: string };
    };
    readonly observeOnly?: boolean;
    readonly released?: boolean;
    readonly owned?: boolean;
    readonly episode?: { readonly id: number; readonly checks: number; readonly recoverAttempts: number };
  },
  serverObserveOnly: boolean,
): string[] {
  const notes: string[] = [];
  const op = r.maintenance?.operator;
  if (op) notes.push(`maintenance set by ${op.by}${op.reason ? `: ${op.reason}` : ''}`);
  if (r.maintenance?.inventory === true) notes.push('maintenance (inventory)');
  if (r.observeOnly === true && !serverObserveOnly) notes.push('observe-only');
  if (r.healthy === false) notes.push('unhealthy');
  if (r.eligible === false) notes.push('not eligible');
  if (r.released === true) notes.push('workloads released');
  if (r.episode) {
    const e = r.episode;
    notes.push(`episode ${e.id}: ${e.checks} activity checks, ${e.recoverAttempts} recovery attempts`);
  }
  if (r.owned === false) notes.push('run by another server');
  return notes;
}

/** One line about an event, for the timeline (`HaEvent`, or a kind this page does not know). */
export function eventText(e: { readonly type: string; readonly [field: string]: unknown }): string {
  const s = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const why = (v: unknown) => (v === undefined || v === '' ? '' : `: ${s(v)}`);
  switch (e.type) {
    case 'resource.transition':
      return `${s(e.resource)} ${s(e.from)} → ${s(e.to)}${why(e.reason)}`;
    case 'partition.transition':
      return `partition ${s(e.partition)} ${s(e.from)} → ${s(e.to)}${why(e.reason)}`;
    case 'power.transition':
      return `${s(e.host)} power ${s(e.from)} → ${s(e.to)}`;
    case 'power.action':
      return `${s(e.host)} power ${s(e.action)} (by ${s(e.by)}) ${e.ok === true ? 'ok' : 'failed'}${why(e.error)}`;
    case 'power.read-failing':
      return `${s(e.host)} power reads failing${why(e.error)}`;
    case 'power.read-ok':
      return `${s(e.host)} power reads ok again after ${s(e.failures)} failures`;
    case 'power.auth-failed':
      return `${s(e.host)} controller refused the credentials`;
    case 'workloads.released':
      return `${s(e.resource)} workloads released (proof: ${s(e.proof)})`;
    case 'fencing.halted':
      return `fencing halted in ${s(e.scope)}${why(e.reason)}`;
    case 'partition.acquired':
      return `partition ${s(e.partition)} lease taken (epoch ${s(e.epoch)})`;
    case 'partition.lost':
      return `partition ${s(e.partition)} lease lost (epoch ${s(e.epoch)})${why(e.reason)}`;
    case 'partition.handed-over':
      return `partition ${s(e.partition)} handed over${why(e.reason)}`;
    case 'alert':
      return `${s(e.level)} ${s(e.code)}${e.resource === undefined ? '' : ` ${s(e.resource)}`}${why(e.message)}`;
    case 'operator.action':
      return `${s(e.by)}: ${s(e.action)} ${s(e.target)}${why(e.reason)}`;
    case 'would.power.action':
      return `observe-only: would send ${s(e.action)} to ${s(e.host)} (by ${s(e.by)})`;
    default: {
      const rest = Object.entries(e).filter(([k]) => k !== 't' && k !== 'type');
      return rest.map(([k, v]) => `${k}=${s(v)}`).join(' ');
    }
  }
}

/** The subject of an event (its resource, host, partition or scope), or undefined. */
export function eventSubject(e: { readonly [field: string]: unknown }): string | undefined {
  for (const k of ['resource', 'host', 'partition', 'scope', 'target']) {
    const v = e[k];
    if (typeof v === 'string') return v;
  }
  return undefined;
}
