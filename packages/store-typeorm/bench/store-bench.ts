import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ResourceRecord } from '@hafence/core';
import { TestPostgres } from '@hafence/testkit/postgres';
import { createPostgresStore, createSqliteStore, type TypeormStateStore } from '@hafence/store-typeorm';

// Persisted transitions per second: a compare-and-set saveResource of a realistic record
// (an open episode, timers), one caller in a loop and then 16 callers on distinct keys.
// Goals: ≥ 5,000/s on SQLite, ≥ 2,000/s on PostgreSQL.

const SECONDS = Number(process.env['HAFENCE_BENCH_SECONDS'] ?? 3);
const CALLERS = 16;

const record = (key: string, version: number): ResourceRecord => ({
  key,
  ref: { type: 'host', id: key },
  partition: 'rack-7',
  state: version % 2 ? 'SUSPECT' : 'AVAILABLE',
  version,
  since: 1_764_460_800_000 + version,
  episode: {
    id: 12,
    openedAt: 1_764_460_700_000,
    released: false,
    checks: version % 9,
    activeResults: 0,
    inactiveStreak: 3,
    errorStreak: 0,
    recoverAttempts: 0,
    degradedAlerted: false,
  },
  nextEpisode: 13,
  releasedOutside: false,
  timers: { activityAt: 1_764_460_805_000, leaseAt: 1_764_460_810_000 },
});

/** Runs one caller's CAS loop on `key` until `deadline`; returns the transitions it made. */
async function loop(store: TypeormStateStore, key: string, deadline: number): Promise<number> {
  let version = 1;
  if (!(await store.saveResource(record(key, version), null))) throw new Error(`insert of ${key} refused`);
  let n = 0;
  while (performance.now() < deadline) {
    if (!(await store.saveResource(record(key, version + 1), version))) throw new Error(`CAS on ${key} refused`);
    version++;
    n++;
  }
  return n;
}

/** Transitions per second with `callers` concurrent callers. */
async function rate(store: TypeormStateStore, tag: string, callers: number): Promise<number> {
  const start = performance.now();
  const deadline = start + SECONDS * 1_000;
  const counts = await Promise.all(Array.from({ length: callers }, (_, i) => loop(store, `${tag}-${i}`, deadline)));
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1_000);
}

async function report(name: string, goal: number, store: TypeormStateStore): Promise<boolean> {
  const one = await rate(store, 'one', 1);
  const many = await rate(store, 'many', CALLERS);
  const best = Math.max(one, many);
  const verdict = best >= goal ? 'meets' : 'MISSES';
  console.log(
    `${name}: ${one.toFixed(0)}/s (1 caller), ${many.toFixed(0)}/s (${CALLERS} callers); ` +
      `goal ≥ ${goal}/s: ${verdict}`,
  );
  return best >= goal;
}

async function postgres(): Promise<boolean> {
  const pg = await TestPostgres.connect(); // fails loudly, saying how to start the server
  const name = `hafence_bench_${process.pid}`;
  const url = await pg.createDatabase(name);
  try {
    const store = await createPostgresStore({ url, poolSize: CALLERS });
    try {
      return await report('postgres', 2_000, store);
    } finally {
      await store.close();
    }
  } finally {
    await pg.dropDatabase(name);
    await pg.close();
  }
}

async function sqlite(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'hafence-bench-'));
  const store = await createSqliteStore({ path: join(dir, 'bench.db') });
  try {
    return await report('sqlite (WAL, synchronous=FULL)', 5_000, store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ok = [await sqlite(), await postgres()];
if (ok.includes(false)) process.exitCode = 1;
