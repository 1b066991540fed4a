import type { Clock } from '@hafence/core';
import type { ResetOutcome } from './redfish-power.js';

/** Redfish `TaskState` values the simulator uses. */
export type RedfishTaskState = 'Running' | 'Completed' | 'Cancelled';

/** One task behind a task monitor (`202 Accepted` + `Location`). */
export interface RedfishSimTask {
  readonly id: string;
  readonly name: string;
  state: RedfishTaskState;
  readonly startMs: number;
  endMs?: number;
}

/** The tasks of a simulated Redfish service, newest last, at most 32 kept. */
export class RedfishTasks {
  readonly #clock: Clock;
  readonly #tasks = new Map<string, RedfishSimTask>();
  #next = 1;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts a task; returns it and the callback that ends it. */
  start(name: string): { task: RedfishSimTask; finish: (outcome: ResetOutcome) => void } {
    const task: RedfishSimTask = { id: String(this.#next++), name, state: 'Running', startMs: this.#clock.now() };
    this.#tasks.set(task.id, task);
    if (this.#tasks.size > 32) this.#tasks.delete(this.#tasks.keys().next().value!);
    const finish = (outcome: ResetOutcome): void => {
      task.state = outcome;
      task.endMs = this.#clock.now();
    };
    return { task, finish };
  }

  /** A task by id. */
  get(id: string): RedfishSimTask | undefined {
    return this.#tasks.get(id);
  }

  /** All kept tasks. */
  list(): RedfishSimTask[] {
    return [...this.#tasks.values()];
  }
}
