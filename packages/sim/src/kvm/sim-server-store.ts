import { HaError, type CoordinationStore, type StateStore } from '@hafence/core';

/** How one simulated management server reaches the shared store. */
export type SimStoreLink = 'up' | 'isolated' | 'dead';

/** A management server's view of the shared store: every call fails while it is cut off. */
export type SimServerStore = StateStore & CoordinationStore;

/**
 * Wraps the shared store for one simulated management server (`ms-isolate`, `ms-crash`): while `link()` is not `up`,
 * every call rejects as a database that cannot be reached would, and nothing reaches the shared store.
 */
export function simServerStore(shared: SimServerStore, msId: string, link: () => SimStoreLink): SimServerStore {
  return new Proxy(shared, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (link() !== 'up') return Promise.reject(new StoreUnreachableError(msId));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A simulated management server cannot reach the shared store (`ms-isolate`, or after `ms-crash`). */
export class StoreUnreachableError extends HaError {
  /** Builds the error for server `msId`. */
  constructor(readonly msId: string) {
    super('HAF6004', `${msId}: the shared store is unreachable`);
  }
}
