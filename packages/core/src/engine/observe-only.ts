import type { Partition } from '../spi/partition.js';
import { abortReason } from '../util/delay.js';

/**
 * Whether a resource whose partition has `lineage` (innermost first, as `Inventory.lineage`) is observe-only
 * (docs/observe-only.md): the whole engine is (`HaConfig.observeOnly`), or its partition or any enclosing one is.
 */
export function isObserveOnly(engineWide: boolean | undefined, lineage: readonly Partition[]): boolean {
  return engineWide === true || lineage.some((p) => p.observeOnly === true);
}

/**
 * Waits for nothing but `signal`: the would-be command of an observe-only action is treated like a command the fence
 * budget holds (docs/observe-only.md) — the action stays where it is, its timeout paused, until something ends it
 * (health back, power read OFF, the partition leaving ACTIVE, the switch to acting). Rejects with the abort reason.
 */
export function heldUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
  });
}
