import type { PartitionState } from '../spi/states.js';
import { lookup, row, type TransitionTable } from './table.js';

/** Inputs of the partition FSM (docs/behaviour.md#partitions), classified by the engine. */
export const PARTITION_EVENTS = [
  'ha-disabled',
  'ha-enabled-met',
  'ha-enabled-unmet',
  'conditions-met',
  'conditions-unmet',
] as const;

/** An input of the partition FSM. */
export type PartitionEvent = (typeof PARTITION_EVENTS)[number];

const r = (cells: Partial<Record<PartitionEvent, PartitionState>>) =>
  row<PartitionState, PartitionEvent>(PARTITION_EVENTS, cells);

/** The total partition table. "Conditions" include the storm guard and its cooldown. */
export const PARTITION_TABLE: TransitionTable<PartitionState, PartitionEvent> = {
  NONE: r({ 'ha-enabled-met': 'ACTIVE', 'ha-enabled-unmet': 'INACTIVE' }),
  ACTIVE: r({ 'ha-disabled': 'NONE', 'conditions-unmet': 'INACTIVE' }),
  INACTIVE: r({ 'ha-disabled': 'NONE', 'conditions-met': 'ACTIVE' }),
};

/** Pure transition of the partition FSM: the next state, or `undefined` if ignored. */
export function partitionTransition(state: PartitionState, event: PartitionEvent): PartitionState | undefined {
  return lookup(PARTITION_TABLE, state, event);
}
