import type { Inventory } from '../spi/inventory.js';
import { abortReason } from '../util/delay.js';

/**
 * Whether a resource of `partitionId` is observe-only (docs/observe-only.md): the whole engine is
 * (`HaConfig.observeOnly`), or its partition or any enclosing one is. It walks the partitions as `Inventory.lineage`
 * does (innermost first, at most 9 levels) without building the list: every health check asks.
 */
export function isObserveOnly(
  engineWide: boolean | undefined,
  partitions: Pick<Inventory, 'partition'>,
  partitionId: string,
): boolean {
  if (engineWide === true) return true;
  let p = partitions.partition(partitionId);
  for (let depth = 0; p !== undefined && depth < 9; depth++) {
    if (p.observeOnly === true) return true;
    p = p.parent ? partitions.partition(p.parent) : undefined;
  }
  return false;
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
