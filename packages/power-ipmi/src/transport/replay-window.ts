/**
 * The inbound session sequence check of IPMI 2.0 §6.12.13: a sequence number is
 * accepted once, if it is newer than the highest seen or within the last 16 of it.
 */
export class ReplayWindow {
  #highest = 0;
  #seen = 0; // bit i = highest - i was seen

  /** Whether `seq` is fresh; records it if so. */
  accept(seq: number): boolean {
    if (seq > this.#highest) {
      const shift = seq - this.#highest;
      this.#seen = shift >= 32 ? 1 : ((this.#seen << shift) | 1) >>> 0;
      this.#highest = seq;
      return true;
    }
    const age = this.#highest - seq;
    if (age >= 16) return false;
    const bit = 1 << age;
    if (this.#seen & bit) return false;
    this.#seen = (this.#seen | bit) >>> 0;
    return true;
  }
}
