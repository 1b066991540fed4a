import { statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { ConfigError, readSecretFile, type ConfigIssue, type StateStore } from '@hafence/core';
import { createPostgresStore, createSqliteStore, StoreOpenError } from '@hafence/store-typeorm';
import type { ClusterFile } from './cluster-schema.js';

/** A store `hafence serve` opened: HA state, membership and leases in one database. */
export type ServeStore = Awaited<ReturnType<typeof createSqliteStore>>;

/**
 * The SQLite file of a cluster file without `store:`: beside it, named after it
 * (`/etc/hafence/cluster.yaml` → `/etc/hafence/cluster.state.sqlite`).
 */
export function defaultStorePath(configPath: string): string {
  return join(dirname(configPath), `${basename(configPath, extname(configPath))}.state.sqlite`);
}

/**
 * Opens the store the cluster file names (`store:`), migrating its schema: `sqlite:PATH`
 * (relative to the cluster file) or the default file beside it; or PostgreSQL with the
 * password from `passwordEnv` or `passwordFile` (mode 0600). A missing password source is
 * a {@link ConfigError} naming the field; a database that cannot be opened is the store's
 * `StoreOpenError` (the password masked) — a SQLite file whose directory does not exist
 * too: it is never created (a mistyped path must not silently start on an empty state).
 */
export async function openServeStore(
  file: ClusterFile,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeStore & StateStore> {
  const s = file.store;
  if (s === undefined || typeof s === 'string') {
    const path = sqlitePath(s, configPath);
    const parent = dirname(path);
    if (!statSync(parent, { throwIfNoEntry: false })?.isDirectory())
      throw new StoreOpenError('sqlite', new Error(`${parent} is not an existing directory (it is not created)`));
    // serve runs on the real clock: writes of one event-loop turn share a commit.
    return createSqliteStore({ path, groupCommit: 'turn' });
  }
  const password = storePassword(s, env);
  return createPostgresStore({ url: s.url, password, poolSize: s.poolSize });
}

/**
 * What {@link openServeStore} would refuse before it connects, without opening anything
 * (`hafence validate`): the PostgreSQL password source (`store.passwordEnv` unset,
 * `store.passwordFile` unreadable or open to others), or a SQLite file whose directory
 * does not exist.
 */
export function checkServeStore(
  file: ClusterFile,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): ConfigIssue[] {
  const s = file.store;
  if (s === undefined || typeof s === 'string') {
    const path = sqlitePath(s, configPath);
    return statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory()
      ? []
      : [
          {
            path: 'store',
            value: s ?? path,
            rule: `${dirname(path)} is not an existing directory (it is not created)`,
          },
        ];
  }
  try {
    storePassword(s, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
}

/** The PostgreSQL password from `passwordEnv` or the first line of `passwordFile` (mode 0600); none without either. */
function storePassword(s: { passwordEnv?: string; passwordFile?: string }, env: NodeJS.ProcessEnv): string | undefined {
  if (s.passwordEnv !== undefined) {
    const password = env[s.passwordEnv];
    if (password === undefined || password === '')
      throw new ConfigError([
        { path: 'store.passwordEnv', value: s.passwordEnv, rule: 'names an environment variable that is not set' },
      ]);
    return password;
  }
  if (s.passwordFile !== undefined) return readSecretFile(s.passwordFile, 'store.passwordFile').split(/\r?\n/)[0];
  return undefined;
}

/** The SQLite file of `store: sqlite:PATH` (relative to the cluster file) or of no `store:` at all. */
function sqlitePath(store: string | undefined, configPath: string): string {
  const given = store?.slice('sqlite:'.length);
  return given === undefined
    ? defaultStorePath(configPath)
    : isAbsolute(given)
      ? given
      : join(dirname(configPath), given);
}
