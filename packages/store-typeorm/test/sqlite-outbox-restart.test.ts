import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HaEvent, ResourceRecord, StateStore } from '@hafence/core';
import { createFakeCluster, TestClock } from '@hafence/testkit';
import { createSqliteStore, type TypeormStateStore } from '@hafence/store-typeorm';

const MIN = 60_000;
const CONFIG = { startupGrace: 0, defaults: { maxRecoveryAttempts: 0 } };

const dir = mkdtempSync(join(tmpdir(), 'hafence-sqlite-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Released = Extract<HaEvent, { type: 'workloads.released' }>;
const releasesOf = (events: readonly HaEvent[], host: string): Released[] =>
  events.filter((e): e is Released => e.type === 'workloads.released' && e.resource === host);

/**
 * The store as a process killed right after a commit sees it: the write that records `host`'s release commits, and the
 * caller never hears back (its promise never settles), so nothing after the commit runs — no event is emitted.
 */
function diesAfterReleaseCommit(store: TypeormStateStore, host: string): { store: StateStore; died: Promise<void> } {
  let died!: () => void;
  const dead = new Promise<void>((resolve) => (died = resolve));
  let gone = false;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        if (gone) return new Promise(() => undefined); // the process is dead: nothing more runs
        const record = args[0] as Partial<ResourceRecord> | undefined;
        const writesRelease =
          typeof prop === 'string' &&
          prop.startsWith('saveResource') &&
          record?.ref?.id === host &&
          record.episode?.released === true &&
          !(await target.getResource(record.key!))?.episode?.released;
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (!writesRelease) return result;
        gone = true;
        died();
        return new Promise(() => undefined); // committed; killed before the caller heard back
      };
    },
  });
  return { store: wrapped, died: dead };
}

describe('SQLite outbox: a release committed but never emitted is emitted after a restart (docs/behaviour.md#persistence)', () => {
  it('the engine dies between the commit of a fence release and its emission: the next start emits it exactly once', async () => {
    const path = join(dir, 'outbox.db');
    const first = await createSqliteStore({ path });
    const killed = diesAfterReleaseCommit(first, 'h3');
    const clock1 = new TestClock();
    const c1 = await createFakeCluster({ hosts: 4, store: killed.store, clock: clock1, config: CONFIG });
    let dead = false;
    void killed.died.then(() => (dead = true));
    c1.provider.host('h3').crashed = true;
    for (let i = 0; i < 60 && !dead; i++) await clock1.advance(MIN);
    expect(dead, 'the release of h3 was committed').to.equal(true);
    expect(releasesOf(c1.events, 'h3'), 'the killed engine emitted no release').to.deep.equal([]);
    const persisted = await first.getResource('host:h3');
    expect(persisted?.episode?.released, 'the committed record says released').to.equal(true);
    const episode = persisted!.episode!.id;
    await first.close(); // the process is gone: its file is free

    const second = await createSqliteStore({ path });
    const c2 = await createFakeCluster({
      hosts: 4,
      store: second,
      clock: new TestClock(clock1.now()),
      config: CONFIG,
    });
    try {
      c2.provider.host('h3').crashed = true;
      await c2.clock.advance(10 * MIN);
      // The step's two events, in order, before anything the new run does.
      expect(c2.events.slice(0, 2).map((e) => [e.type, 'to' in e ? e.to : undefined])).to.deep.equal([
        ['resource.transition', 'FENCED'],
        ['workloads.released', undefined],
      ]);
      const released = releasesOf(c2.events, 'h3');
      expect(released, 'the restarted engine emits the committed release once').to.have.length(1);
      expect(released[0]).to.include({ episode, proof: 'power-off' });
      expect((released[0] as { id?: unknown }).id, 'a relayed event carries its id').to.be.a('number');
    } finally {
      await c2.close();
    }
  });
});
