/**
 * A PostgreSQL server for tests (`@hafence/testkit/postgres`): its URL from `HAFENCE_PG_URL` or the
 * `.hafence-test/pg-url` that `npm run setup` writes, and a fresh database per test. Needs `typeorm`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';

/** The environment variable that overrides the test server's URL. */
export const PG_URL_ENV = 'HAFENCE_PG_URL';

const HOW_TO_START =
  'PostgreSQL for the store tests is not reachable. Start it with `npm run setup` (as root: installs ' +
  'postgresql, runs `pg_ctlcluster 15 main start`, creates role hafence and database hafence_test and ' +
  `writes .hafence-test/pg-url), or set ${PG_URL_ENV}=postgres://user:password@host:port/database.`;

/** The repository root: the first ancestor holding a package.json with workspaces. */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && 'workspaces' in (JSON.parse(readFileSync(pkg, 'utf8')) as object)) return dir;
    if (dirname(dir) === dir) throw new Error('no repository root above this test');
  }
}

/** The test server's URL (its database is only the admin database; each run creates its own). */
export function testPgUrl(): string {
  const fromEnv = process.env[PG_URL_ENV];
  if (fromEnv) return fromEnv;
  const file = join(repoRoot(), '.hafence-test', 'pg-url');
  if (!existsSync(file)) throw new Error(`${HOW_TO_START} (no ${file})`);
  return readFileSync(file, 'utf8').trim();
}

/** `url` with its database replaced by `database`. */
export function urlFor(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The admin connection that creates and drops the per-test databases; fails loudly when unreachable. */
export class TestPostgres {
  private constructor(
    readonly url: string,
    private readonly admin: DataSource,
  ) {}

  /** Connects to the test server, or throws with how to start it. */
  static async connect(): Promise<TestPostgres> {
    const url = testPgUrl();
    const u = new URL(url);
    const admin = new DataSource({
      type: 'postgres',
      host: u.hostname,
      port: Number(u.port || 5432),
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.slice(1)),
      connectTimeoutMS: 5_000,
    });
    try {
      await admin.initialize();
    } catch (error) {
      throw new Error(`${HOW_TO_START} (${(error as { code?: string }).code ?? 'connect failed'})`);
    }
    return new TestPostgres(url, admin);
  }

  /** Creates a fresh, empty database and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await this.admin.query(`CREATE DATABASE ${name}`);
    return urlFor(this.url, name);
  }

  /** Drops a database made by {@link createDatabase}. */
  async dropDatabase(name: string): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  /** Closes the admin connection. */
  async close(): Promise<void> {
    await this.admin.destroy();
  }
}
