/** A cell of a transition table: the target state, or `ignored` (the event changes nothing). */
export type Cell<TState extends string> = TState | 'ignored';

/** A total transition table: every state has an answer for every event. */
export type TransitionTable<TState extends string, TEvent extends string> = Readonly<
  Record<TState, Readonly<Record<TEvent, Cell<TState>>>>
>;

/** Outcome of a pure transition: the next state, or `undefined` when the event is ignored. */
export function lookup<TState extends string, TEvent extends string>(
  table: TransitionTable<TState, TEvent>,
  state: TState,
  event: TEvent,
): TState | undefined {
  const cell = table[state][event];
  return cell === 'ignored' ? undefined : (cell as TState);
}

/** Builds one row: every event ignored except the ones given. */
export function row<TState extends string, TEvent extends string>(
  events: readonly TEvent[],
  cells: Partial<Record<TEvent, TState>>,
): Record<TEvent, Cell<TState>> {
  const out = {} as Record<TEvent, Cell<TState>>;
  for (const e of events) out[e] = cells[e] ?? 'ignored';
  return out;
}
