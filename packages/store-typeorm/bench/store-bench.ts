import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ResourceRecord } from '@hafence/core';
import { createPostgresStore, createSqliteStore, type TypeormStateStore } from '@hafence/store-typeorm';
import { DataSource } from 'typeorm';

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

function pgUrl(): string | undefined {
  if (process.env['HAFENCE_PG_URL']) return process.env['HAFENCE_PG_URL'];
  const file = join(process.cwd(), '..', '..', '.hafence-test', 'pg-url');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function postgres(): Promise<boolean> {
  const url = pgUrl();
  if (!url) {
    console.log('postgres: no server (run `npm run setup` as root, or set HAFENCE_PG_URL)');
    return false;
  }
  const u = new URL(url);
  const admin = new DataSource({
    type: 'postgres',
    host: u.hostname,
    port: Number(u.port || 5432),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  });
  await admin.initialize();
  const name = `hafence_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    u.pathname = `/${name}`;
    const store = await createPostgresStore({ url: u.toString(), poolSize: CALLERS });
    try {
      return await report('postgres', 2_000, store);
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
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
