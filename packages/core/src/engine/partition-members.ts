import type { MemberView } from '../spi/ha-provider.js';
import type { Runtime } from './runtime.js';

/** What {@link PartitionMembers.summary} tells of a partition's members. */
export interface MemberSummary {
  /** One view per member, in the order they were added. */
  readonly views: readonly MemberView[];
  /** Members not known to be ineligible (an unanswered eligibility counts). */
  readonly eligible: number;
  /** Eligible members counted as failing (storm guard). */
  readonly failing: number;
  /** No member yet, or an eligible member outside a failure episode has not answered a health check. */
  readonly unknown: boolean;
}

/**
 * The members of one partition, in the order they were added, with the member views and counts the partition engine
 * weighs (docs/behaviour.md#partitions). The resource engine {@link PartitionMembers.touch}es a member whenever its
 * record, health, eligibility, failing flag or spec may have changed; a reassessment then rebuilds the views of the
 * touched members only, so a pass costs O(changed members) plus one copy of the view array — not a walk over 1,000
 * runtimes for every one of a cluster's start-up checks.
 */
export class PartitionMembers {
  private readonly set = new Set<Runtime>();
  /** Position of each member in `views`; undefined after an add or a delete (everything is rebuilt). */
  private index: Map<Runtime, number> | undefined;
  private views: MemberView[] = [];
  /** `failing[i]`: the failing flag `views[i]` was counted with. */
  private failing: boolean[] = [];
  private readonly touched = new Set<Runtime>();
  private eligibleCount = 0;
  private failingCount = 0;
  /** Eligible members outside an episode that have not answered a health check. */
  private unknownCount = 0;
  /** The copy last handed out: handed out again while nothing changed. */
  private handed: readonly MemberView[] = [];

  /** How many members. */
  get size(): number {
    return this.set.size;
  }

  /** Adds a member (last in order). */
  add(rt: Runtime): void {
    this.set.add(rt);
    this.index = undefined;
  }

  /** Removes a member. */
  delete(rt: Runtime): void {
    if (this.set.delete(rt)) this.index = undefined;
    this.touched.delete(rt);
  }

  /** Member `rt` may have changed (record, health, eligibility, failing flag, spec): its view is rebuilt next pass. */
  touch(rt: Runtime): void {
    if (this.index?.has(rt)) this.touched.add(rt);
  }

  /** The members, in the order they were added (live: copy before changing the set while iterating). */
  runtimes(): IterableIterator<Runtime> {
    return this.set.values();
  }

  /** Every member's view and the counts the partition FSM weighs. */
  summary(): MemberSummary {
    let changed = false;
    if (!this.index) {
      this.rebuild();
      changed = true;
    } else {
      for (const rt of this.touched) {
        const i = this.index.get(rt);
        if (i === undefined) continue;
        const old = this.views[i] as MemberView;
        if (fresh(old, rt) && this.failing[i] === rt.failing) continue;
        this.count(old, this.failing[i] === true, -1);
        const view = memberView(rt);
        this.views[i] = view;
        this.failing[i] = rt.failing;
        this.count(view, rt.failing, 1);
        changed = true;
      }
    }
    this.touched.clear();
    // A copy, so a provider that keeps the array never sees it change under it.
    if (changed) this.handed = this.views.slice();
    return {
      views: this.handed,
      eligible: this.eligibleCount,
      failing: this.failingCount,
      unknown: this.set.size === 0 || this.unknownCount > 0,
    };
  }

  private rebuild(): void {
    const index = new Map<Runtime, number>();
    this.views = [];
    this.failing = [];
    this.eligibleCount = this.failingCount = this.unknownCount = 0;
    for (const rt of this.set) {
      index.set(rt, this.views.length);
      const view = memberView(rt);
      this.views.push(view);
      this.failing.push(rt.failing);
      this.count(view, rt.failing, 1);
    }
    this.index = index;
  }

  /** Adds (`sign` 1) or removes (-1) one member's share of the counts. */
  private count(view: MemberView, failing: boolean, sign: 1 | -1): void {
    if (!view.eligible) return;
    this.eligibleCount += sign;
    if (failing) this.failingCount += sign;
    if (view.healthy === undefined && !view.inEpisode) this.unknownCount += sign;
  }
}

/** A member's view for the provider's partition conditions. */
function memberView(rt: Runtime): MemberView {
  return {
    spec: rt.spec,
    state: rt.record.state,
    eligible: rt.eligible !== false,
    healthy: rt.healthy,
    inEpisode: !!rt.record.episode,
  };
}

/** Whether `view` still tells what `rt` is. */
function fresh(view: MemberView, rt: Runtime): boolean {
  return (
    view.spec === rt.spec &&
    view.state === rt.record.state &&
    view.healthy === rt.healthy &&
    view.eligible === (rt.eligible !== false) &&
    view.inEpisode === !!rt.record.episode
  );
}
