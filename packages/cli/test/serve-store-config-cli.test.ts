import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within, type CliRun } from './power-sim-helper.js';

const TOKEN = 'Tok-Store-5e1c9a7b3d2f';
const STORE_PW = 'Store-Inline-Pw-8842';

/**
 * `hafence serve` with a broken `store:` / `servers:` / `--ms-id` (issue 11), through the
 * real binary: each exits 2 naming the field, prints nothing on stdout and creates no
 * state file; a SQLite store that cannot be opened exits 4, nothing started.
 */
describe('hafence serve: broken store, servers and --ms-id (real processes)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-serve-store-'));
  after(() => {
    chmodSync(join(dir, 'ro'), 0o700);
    rmSync(dir, { recursive: true, force: true });
  });
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  mkdirSync(join(dir, 'ro'), { mode: 0o500 });
  const env = { STORE_BMC_PW: 'Bmc-Pw-77', STORE_DB_PW: 'Db-Pw-77' };
  let n = 0;

  /** Writes a cluster file with `extra` top-level lines and runs `hafence serve` on it. */
  async function serve(extra: string, args: readonly string[] = [], moreEnv: Record<string, string> = {}) {
    const file = join(dir, `c${++n}.yaml`);
    writeFileSync(
      file,
      `${extra}
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: STORE_BMC_PW } }
`,
    );
    const r = await within(15_000, ['serve', '--config', file, ...args], { ...env, ...moreEnv });
    return { ...r, file };
  }

  /** Exit 2, the field named, nothing on stdout, no state file written. */
  function refused(r: CliRun & { file: string }, field: string): void {
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include(field);
    expect(r.stdout).to.equal('');
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite'))).to.deep.equal([]);
  }

  const pg = (store: string) => `store: ${store}`;
  const url = (u: string) => pg(`{ url: "${u}", passwordEnv: STORE_DB_PW }`);

  it('a store URL that is no URL', async () => refused(await serve(url('not a url')), 'store.url'));

  it('a postgres URL with the password inside, never echoed', async () => {
    const r = await serve(url(`postgres://hafence:${STORE_PW}@db1:5432/hafence`));
    refused(r, 'store.url');
    expect(r.stderr + r.stdout).to.not.include(STORE_PW);
  });

  it('a mysql:// URL', async () => refused(await serve(url('mysql://hafence@db1/hafence')), 'store.url'));
  it('a URL without a database', async () => refused(await serve(url('postgres://hafence@db1:5432/')), 'store.url'));
  it('a URL without a host', async () => refused(await serve(url('postgres:///hafence')), 'store.url'));
  it('a URL with ?options', async () =>
    refused(await serve(url('postgres://hafence@db1/hafence?sslmode=disable')), 'store.url'));
  it('sqlite: with an empty path', async () => refused(await serve(pg('"sqlite:"')), 'store'));
  it('a bare path without sqlite:', async () => refused(await serve(pg('./state.sqlite')), 'store'));

  it('an unknown key in the store object', async () =>
    refused(await serve(pg('{ url: "postgres://hafence@db1/hafence", passwordEnv: STORE_DB_PW, ssl: true }')), 'ssl'));

  it('both passwordEnv and passwordFile', async () =>
    refused(
      await serve(
        pg(`{ url: "postgres://hafence@db1/hafence", passwordEnv: STORE_DB_PW, passwordFile: ${tokenFile} }`),
      ),
      'store.passwordEnv',
    ));

  it('passwordEnv that is no variable name', async () =>
    refused(await serve(pg('{ url: "postgres://hafence@db1/hafence", passwordEnv: "DB PW" }')), 'store.passwordEnv'));

  it('passwordEnv naming an unset variable', async () =>
    refused(
      await serve(pg('{ url: "postgres://hafence@db1/hafence", passwordEnv: HAFENCE_STORE_UNSET_9 }')),
      'store.passwordEnv',
    ));

  it('poolSize 0', async () =>
    refused(
      await serve(pg('{ url: "postgres://hafence@db1/hafence", passwordEnv: STORE_DB_PW, poolSize: 0 }')),
      'store.poolSize',
    ));

  it('a server id listed twice', async () =>
    refused(await serve('servers: [{ id: ms1 }, { id: ms1 }]', ['--ms-id', 'ms1']), 'servers.1.id'));

  it('an empty servers list', async () => refused(await serve('servers: []', ['--ms-id', 'ms1']), 'servers'));

  it('two servers with a sqlite store', async () =>
    refused(await serve('store: "sqlite:s.sqlite"\nservers: [{ id: ms1 }, { id: ms2 }]', ['--ms-id', 'ms1']), 'store'));

  it('two servers with the default (sqlite) store', async () =>
    refused(await serve('servers: [{ id: ms1 }, { id: ms2 }]', ['--ms-id', 'ms1']), 'store'));

  it('--ms-id that the file does not list', async () =>
    refused(await serve('servers: [{ id: ms1 }]', ['--ms-id', 'ms9']), '--ms-id'));

  it('--ms-id missing while the file lists servers', async () =>
    refused(await serve('servers: [{ id: ms1 }]'), '--ms-id'));

  it('--ms-id with a newline', async () => {
    const r = await serve('servers: [{ id: ms1 }]', ['--ms-id', 'ms1\nms2']);
    refused(r, '--ms-id');
    expect(r.stderr).to.not.include('ms1\nms2');
  });

  /** Exit 4 (the store cannot be opened), the path named, nothing started, no file or directory created. */
  function unopenable(r: CliRun, shown: string): void {
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stderr).to.include('HAF7002').and.include(shown);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.not.include('engine started');
  }

  it('a sqlite store in a directory that does not exist: exit 4, nothing started, no directory created', async () => {
    const missing = join(dir, 'missing');
    unopenable(await serve(`store: "sqlite:${join(missing, 'state.sqlite')}"`), missing);
    expect(existsSync(missing)).to.equal(false);
  });

  it('a sqlite store whose "directory" is a file: exit 4, nothing started', async () => {
    unopenable(await serve(`store: "sqlite:${join(tokenFile, 'state.sqlite')}"`), tokenFile);
  });

  it('a sqlite store in a directory that is not writable: exit 4, nothing started', async function () {
    if (process.getuid?.() === 0) this.skip(); // root writes anywhere
    unopenable(await serve(`store: "sqlite:${join(dir, 'ro', 'state.sqlite')}"`), 'state.sqlite');
    expect(readdirSync(join(dir, 'ro'))).to.deep.equal([]);
  });
});
