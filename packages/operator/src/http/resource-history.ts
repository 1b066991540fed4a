import type { HaEvent, ReleaseProof, ResourceState } from '@hafence/core';

/** One HA transition of a resource, as the detail route shows it. */
export interface TransitionEntry {
  readonly t: number;
  readonly from: ResourceState;
  readonly to: ResourceState;
  readonly reason: string;
}

/** One release of a resource's workloads, with its proof. */
export interface ReleaseEntry {
  readonly t: number;
  readonly proof: ReleaseProof;
}

/** How many transitions and releases are kept per resource. */
export const HISTORY_PER_RESOURCE = 20;

/**
 * The recent transitions and releases of every resource (at most
 * {@link HISTORY_PER_RESOURCE} of each, newest last), fed by the engine's events. Keyed by
 * the resource's `type:id`.
 */
export class ResourceHistory {
  private readonly transitions = new Map<string, TransitionEntry[]>();
  private readonly releases = new Map<string, ReleaseEntry[]>();

  /** Bounds each list (default {@link HISTORY_PER_RESOURCE}). */
  constructor(private readonly size = HISTORY_PER_RESOURCE) {}

  /** Takes what `event` says about a resource; other events are ignored. */
  observe(event: HaEvent): void {
    if (event.type === 'resource.transition') {
      const { t, from, to, reason } = event;
      append(this.transitions, keyOf(event.resourceType, event.resource), { t, from, to, reason }, this.size);
    } else if (event.type === 'workloads.released') {
      append(this.releases, keyOf(event.resourceType, event.resource), { t: event.t, proof: event.proof }, this.size);
    }
  }

  /** Seeds older entries (from the stored history) in front of what the live feed already holds. */
  seed(events: readonly HaEvent[]): void {
    const older = new ResourceHistory(this.size);
    for (const e of events) older.observe(e);
    merge(this.transitions, older.transitions, this.size);
    merge(this.releases, older.releases, this.size);
  }

  /** The transitions and releases of resource `type`/`id`, newest last. */
  of(type: string, id: string): { transitions: TransitionEntry[]; releases: ReleaseEntry[] } {
    const key = keyOf(type, id);
    return { transitions: [...(this.transitions.get(key) ?? [])], releases: [...(this.releases.get(key) ?? [])] };
  }
}

function keyOf(type: string, id: string): string {
  return `${type}:${id}`;
}

function append<T>(map: Map<string, T[]>, key: string, entry: T, size: number): void {
  const list = map.get(key) ?? [];
  list.push(entry);
  if (list.length > size) list.splice(0, list.length - size);
  map.set(key, list);
}

/** Puts `older`'s entries before `live`'s, dropping those the live list already has (same `t` and content). */
function merge<T extends { t: number }>(live: Map<string, T[]>, older: Map<string, T[]>, size: number): void {
  for (const [key, old] of older) {
    const now = live.get(key) ?? [];
    const seen = new Set(now.map((e) => JSON.stringify(e)));
    const before = old.filter((e) => !seen.has(JSON.stringify(e)) && (now.length === 0 || e.t <= now[0]!.t));
    live.set(key, [...before, ...now].slice(-size));
  }
}
