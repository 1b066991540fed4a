/** Lateness histogram in whole milliseconds (the system clock's resolution). */
export class Histogram {
  private readonly counts = new Float64Array(120_001);
  total = 0;
  max = 0;

  /** Counts one sample of `ms` (clamped to 0 … 120 s). */
  add(ms: number): void {
    const v = Math.max(0, Math.min(120_000, Math.round(ms)));
    this.counts[v] = (this.counts[v] ?? 0) + 1;
    this.total++;
    if (v > this.max) this.max = v;
  }

  /** Share of samples above `ms`. */
  above(ms: number): number {
    const n = this.counts.subarray(ms + 1).reduce((sum, count) => sum + count, 0);
    return this.total ? n / this.total : 0;
  }

  /** The `q` quantile (0 … 1) in ms. */
  quantile(q: number): number {
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (const [v, count] of this.counts.entries()) {
      seen += count;
      if (seen >= rank && seen > 0) return v;
    }
    return 0;
  }
}
