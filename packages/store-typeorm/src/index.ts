/**
 * `@hafence/store-typeorm`: persistent hafence state stores on typeorm — SQLite for one
 * management server, PostgreSQL for several. Both implement core's `StateStore` and
 * `CoordinationStore` with the semantics of `MemoryStateStore`.
 * @packageDocumentation
 */
export { createSqliteStore } from './create-sqlite-store.js';
export type { SqliteStoreOptions } from './create-sqlite-store.js';
export { createPostgresStore } from './create-postgres-store.js';
export type { PostgresStoreOptions } from './create-postgres-store.js';
export { TypeormStateStore } from './store/typeorm-state-store.js';
export { StoreOpenError, StoreOptionsError } from './errors.js';
// The typeorm entities, for tools that inspect the schema (the store itself migrates on open).
export { STORE_ENTITIES } from './schema/entities.js';
