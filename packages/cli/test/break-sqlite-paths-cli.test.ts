import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within, type CliRun } from './power-sim-helper.js';

const TOKEN = 'Tok-Break-Paths-4c2a9e';

/**
 * `hafence serve` on hostile `store: "sqlite:…"` paths, through the real binary (README of the cli: a database that
 * cannot be opened exits 4, HAF7002, nothing started; --json prints one JSON event per line on stdout).
 */
describe('break: hafence serve on odd SQLite paths (real processes)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-break-paths-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  let n = 0;

  /** Runs `sqlite3 FILE SQL` (the sqlite3 shell, as another program would); its stdout. */
  function sql(file: string, statements: string): string {
    return execFileSync('sqlite3', [join(dir, file), statements], { encoding: 'utf8' });
  }

  /** Runs `hafence serve --json` on a cluster file whose store is `sqlite:PATH` (relative to `dir`). */
  async function serve(path: string): Promise<CliRun> {
    const file = join(dir, `c${++n}.yaml`);
    writeFileSync(
      file,
      `store: "sqlite:${path}"
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: BP } }
`,
    );
    return within(10_000, ['serve', '--config', file, '--json'], { BP: 'Bmc-Pw-1' });
  }

  /** Exit 4 with HAF7002 naming the path, nothing on stdout (the --json event stream), nothing started. */
  function unopenable(r: CliRun, path: string): void {
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stderr).to.include('HAF7002');
    expect(r.stdout, 'nothing but JSON events on stdout').to.equal('');
    expect(r.stderr).to.not.include('engine started');
    expect(r.stderr, 'the error names the path').to.include(path);
  }

  it('a directory: exit 4 naming it', async () => {
    mkdirSync(join(dir, 'adir'));
    unopenable(await serve('adir'), 'adir');
  });

  it('a FIFO: exit 4 naming it, no hang', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo.db')]);
    unopenable(await serve('fifo.db'), 'fifo.db');
  });

  it('a text file that is not a database: exit 4 naming it, the file untouched', async () => {
    writeFileSync(join(dir, 'text.db'), 'not a database\n'.repeat(50));
    unopenable(await serve('text.db'), 'text.db');
  });

  it('a dangling symlink: exit 4 naming it', async () => {
    symlinkSync(join(dir, 'nowhere', 'x.db'), join(dir, 'dangling.db'));
    unopenable(await serve('dangling.db'), 'dangling.db');
  });

  it("another program's database with a table named like ours: exit 4, and stdout (the --json stream) stays clean", async () => {
    sql('other.db', 'CREATE TABLE resources (x INTEGER); INSERT INTO resources VALUES (1);');
    unopenable(await serve('other.db'), 'other.db');
  });

  it("another program's database (tables not ours): refused, not adopted — hafence adds no tables to it", async () => {
    sql(
      'foreign.db',
      'CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);',
    );
    const r = await serve('foreign.db');
    const tables = sql('foreign.db', "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;")
      .split('\n')
      .filter(Boolean);
    expect(tables, `serve exit ${r.code}`).to.deep.equal(['invoices']);
    expect(r.code).to.equal(4);
  });

  it('a symlink to a fresh file: opened and used (held)', async () => {
    writeFileSync(join(dir, 'real.db'), '');
    symlinkSync(join(dir, 'real.db'), join(dir, 'link.db'));
    const r = await serve('link.db');
    expect(r.code, r.stderr).to.equal(-1); // still running when killed
    expect(r.stderr).to.include('engine started');
  });
});
