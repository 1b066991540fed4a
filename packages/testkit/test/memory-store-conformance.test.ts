import { expect } from 'chai';
import { MemoryStateStore, type StopVerdict } from '@hafence/core';
import { runStateStoreConformance, stateStoreConformanceChecks, type StateStoreFixture } from '@hafence/testkit';
import { describeStateStoreConformance } from '@hafence/testkit/mocha';

describeStateStoreConformance('MemoryStateStore', () => {
  const store = new MemoryStateStore();
  return { store, openPeer: async () => store };
});

/** A store that breaks one rule, to prove the suite can fail. */
function broken(patch: (store: MemoryStateStore) => void): () => StateStoreFixture {
  return () => {
    const store = new MemoryStateStore();
    patch(store);
    return { store };
  };
}

describe('state-store conformance: the checks fail stores that break the contract', () => {
  const failedNames = async (make: () => StateStoreFixture) =>
    (await runStateStoreConformance(make)).filter((r) => r.status === 'failed').map((r) => r.name);

  it('a takeStop that counts, yields, then appends overspends under concurrency', async () => {
    const failed = await failedNames(
      broken((store) => {
        store.takeStop = async (entry, limits): Promise<StopVerdict> => {
          const n = await store.countFenceLog(entry.at - limits.windowMs, entry.partition);
          await new Promise((resolve) => setImmediate(resolve));
          if (n >= limits.perPartition)
            return { taken: false, scope: entry.partition, count: n, limit: limits.perPartition };
          await store.appendFenceLog(entry);
          return { taken: true };
        };
      }),
    );
    expect(failed).to.include('20 concurrent takeStop calls on one partition take exactly the per-partition limit');
  });

  it('a store whose fenced writes ignore the fence fails the lease-lost check', async () => {
    const failed = await failedNames(
      broken((store) => {
        const save = store.saveResource.bind(store);
        store.saveResource = (record, expected) => save(record, expected);
      }),
    );
    expect(failed).to.include(
      'after another server acquires the partition every fenced write throws LeaseLostError and writes nothing',
    );
  });

  it('a pruneEvents that ignores the row cap fails', async () => {
    const failed = await failedNames(
      broken((store) => {
        const prune = store.pruneEvents.bind(store);
        store.pruneEvents = (r) => prune({ before: r.before, maxRows: Number.MAX_SAFE_INTEGER });
      }),
    );
    expect(failed).to.include('pruneEvents keeps at most maxRows (the newest), and ids keep growing after it');
  });

  it('a store that writes the events apart from the record (stored even when the compare-and-set lost) fails', async () => {
    const failed = await failedNames(
      broken((store) => {
        store.saveResourceWithEvents = async (record, expected, events) => {
          for (const e of events) await store.appendEvent(e);
          return (await store.saveResource(record, expected)) ? [] : undefined;
        };
      }),
    );
    expect(failed).to.include(
      'a saveResourceWithEvents that loses its compare-and-set writes neither the record nor its events',
    );
    expect(failed).to.include(
      'saveResourceWithEvents writes the record and its events together: increasing ids, undelivered, in the history',
    );
  });

  it('a pruneEvents that drops undelivered outbox rows fails', async () => {
    const failed = await failedNames(
      broken((store) => {
        const prune = store.pruneEvents.bind(store);
        store.pruneEvents = async (r) => {
          await store.markDelivered((await store.listUndelivered({ limit: 1_000 })).map((e) => e.id));
          return prune(r);
        };
      }),
    );
    expect(failed).to.include(
      'pruneEvents never drops an undelivered outbox row; once delivered it goes like any other',
    );
  });

  it('exports the checks with unique names', () => {
    const names = stateStoreConformanceChecks().map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(names.length).to.be.greaterThan(20);
  });
});
