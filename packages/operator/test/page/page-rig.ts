import { Subject } from 'rxjs';
import { NotFoundError, Secret, systemClock, type Clock, type HaEvent, type ResourceRef } from '@hafence/core';
import {
  startOperatorServer,
  statusPage,
  type OperatorEngine,
  type OperatorServer,
  type StatusSnapshot,
} from '@hafence/operator';
import { NOW } from './fixtures.js';

/** The Basic credentials of the page's user. */
export const PAGE_USER = { username: 'operator', password: 'page-test-token-0123456789abcdef0123' };

/** The engine clock of the rig: always {@link NOW}, so the fixtures' times read as written; real timers. */
const fixedClock: Clock = {
  now: () => NOW,
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
  clearTimeout: (h) => systemClock.clearTimeout(h),
};

/**
 * An engine that answers from a snapshot the test sets and emits the events the test
 * pushes: the read model and the stream as the operator server sees them, without an engine.
 */
export class StubEngine implements OperatorEngine {
  readonly events$ = new Subject<HaEvent>();

  /** Starts with `data` (its resources, partitions and budgets are what the API answers). */
  constructor(public data: StatusSnapshot) {}

  /** Emits `event` as the engine would. */
  emit(event: HaEvent): void {
    this.events$.next(event);
  }

  describeResource(ref: ResourceRef) {
    const r = this.data.resources.find((x) => x.ref.type === ref.type && x.ref.id === ref.id);
    if (!r) throw new NotFoundError('resource', ref.id);
    return r;
  }
  describeResources() {
    return [...this.data.resources];
  }
  describePartitions() {
    return [...this.data.partitions];
  }
  fenceBudgets() {
    return [...this.data.fenceBudgets];
  }
  setMaintenance(): Promise<void> {
    return Promise.reject(new Error('not in page tests'));
  }
  setHaEnabled(): Promise<void> {
    return Promise.reject(new Error('not in page tests'));
  }
  resumeFencing(): void {
    throw new Error('not in page tests');
  }
}

/** `startOperatorServer` with the status page over `engine`, on loopback (port 0: a free one). */
export function startPageServer(engine: StubEngine, port = 0): Promise<OperatorServer> {
  return startOperatorServer({
    service: engine,
    store: { listEvents: () => Promise.resolve([]) },
    auth: { tokens: [{ name: PAGE_USER.username, token: new Secret(PAGE_USER.password) }] },
    listen: { host: '127.0.0.1', port },
    msId: engine.data.server.msId,
    version: engine.data.server.version,
    observeOnly: engine.data.server.observeOnly,
    page: statusPage,
    clock: fixedClock,
    seedHistory: false,
  });
}
