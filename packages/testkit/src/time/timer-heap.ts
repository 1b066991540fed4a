/** A pending virtual timer. */
export interface VirtualTimer {
  readonly id: number;
  /** When it fires: its deadline, moved by the clock's jitter if any. */
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Binary min-heap of timers ordered by (firing time, creation sequence). */
export class TimerHeap {
  private readonly items: VirtualTimer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): VirtualTimer | undefined {
    return this.items[0];
  }

  push(timer: VirtualTimer): void {
    const a = this.items;
    // Sift the hole up from the end; `timer` is written once, where it belongs.
    let i = a.length;
    a.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = this.at(parent);
      if (!before(timer, up)) break;
      a[i] = up;
      i = parent;
    }
    a[i] = timer;
  }

  pop(): VirtualTimer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      // Sift the hole down from the root, moving the earlier child up while it precedes `last`.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        let m = l;
        let child = this.at(l);
        const r = l + 1;
        if (r < a.length) {
          const right = this.at(r);
          if (before(right, child)) {
            m = r;
            child = right;
          }
        }
        if (!before(child, last)) break;
        a[i] = child;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }

  /** The item at an index the heap arithmetic keeps below `size`. */
  private at(i: number): VirtualTimer {
    const timer = this.items[i];
    if (timer === undefined) throw new Error(`TimerHeap: no item at index ${i} of ${this.items.length}`);
    return timer;
  }
}

function before(x: VirtualTimer, y: VirtualTimer): boolean {
  return x.due < y.due || (x.due === y.due && x.seq < y.seq);
}
