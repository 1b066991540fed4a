import type { PowerState } from '../spi/power-driver.js';
import { lookup, row, type TransitionTable } from './table.js';

/** Inputs of the power FSM (docs/behaviour.md#power): reads, and a run of failed reads reaching the limit. */
export const POWER_EVENTS = ['read-on', 'read-off', 'read-failed', 'read-failed-limit'] as const;

/** An input of the power FSM. */
export type PowerEvent = (typeof POWER_EVENTS)[number];

const r = (cells: Partial<Record<PowerEvent, PowerState>>) => row<PowerState, PowerEvent>(POWER_EVENTS, cells);

/** The total power table: a known state turns UNKNOWN only after `powerReadsToUnknown` failures. */
export const POWER_TABLE: TransitionTable<PowerState, PowerEvent> = {
  ON: r({ 'read-off': 'OFF', 'read-failed-limit': 'UNKNOWN' }),
  OFF: r({ 'read-on': 'ON', 'read-failed-limit': 'UNKNOWN' }),
  UNKNOWN: r({ 'read-on': 'ON', 'read-off': 'OFF' }),
};

/** Pure transition of the power FSM: the next state, or `undefined` if ignored. */
export function powerTransition(state: PowerState, event: PowerEvent): PowerState | undefined {
  return lookup(POWER_TABLE, state, event);
}
