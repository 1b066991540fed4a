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
    a.push(timer);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): VirtualTimer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: VirtualTimer, y: VirtualTimer): boolean {
  return x.due < y.due || (x.due === y.due && x.seq < y.seq);
}
