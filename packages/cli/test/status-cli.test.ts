import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hafence } from './power-sim-helper.js';

/*
 * `hafence status` against a small real HTTP server that answers canned JSON in the shapes of
 * the issue-12 contract (contract-12.md, "HTTP API"). This server is the contract, not the product:
 * the real-process test against `hafence serve --http` is in status-serve-cli.test.ts.
 */

const TOKEN = 'status-cli-token-0123456789abcdef0123';
const NOW = 1_000_000;

const server = { msId: 'ms1', observeOnly: false, version: '0.1.0', startedAt: NOW - 3_600_000, now: NOW };
const resource = (id: string, state: string, waiting?: { for: string; at: number }) => ({
  ref: { type: 'host', id },
  partition: 'c1',
  state,
  since: NOW - 65_000,
  healthy: state === 'AVAILABLE',
  eligible: true,
  power: state === 'FENCED' ? 'OFF' : 'ON',
  maintenance: { inventory: false },
  observeOnly: false,
  timers: { nextCheckAt: NOW + 4_000 },
  ...(waiting ? { waiting } : {}),
  released: false,
  owned: true,
});
const partitions = {
  partitions: [
    {
      id: 'c1',
      kind: 'cluster',
      parent: 'p1',
      enabled: true,
      haEnabled: true,
      state: 'ACTIVE',
      since: NOW - 3_000_000,
      reason: 'started',
      observeOnly: false,
      members: 2,
    },
  ],
  fenceBudgets: [{ scope: 'global', limit: 5, used: 1, windowMs: 3_600_000, halted: false }],
};
const resources = {
  resources: [
    resource('kvm1', 'AVAILABLE', { for: 'check', at: NOW + 4_000 }),
    resource('kvm2', 'SUSPECT', { for: 'activity', at: NOW + 12_000 }),
  ],
};
const kvm2 = {
  ...resource('kvm2', 'SUSPECT', { for: 'activity', at: NOW + 12_000 }),
  episode: { id: 1, openedAt: NOW - 20_000, checks: 2, activeResults: 0, inactiveStreak: 2, recoverAttempts: 0 },
  transitions: [{ t: NOW - 20_000, from: 'AVAILABLE', to: 'SUSPECT', reason: 'health check failed' }],
  releases: [],
};

/** What the canned server answers; a test switches it. */
type Mode = 'contract' | 'html' | 'garbled-json' | 'wrong-shape' | 'not-found' | 'padded-list' | 'endless-list';

describe('hafence status (against a canned server of the contract shapes)', function () {
  this.timeout(30_000);
  let http: Server;
  let url: string;
  let mode: Mode = 'contract';
  const seen: { path: string; auth?: string }[] = [];
  let dir: string;
  let tokenFile: string;
  let silent: TcpServer;
  let silentUrl: string;
  const sockets: Socket[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return json(401, { error: { code: 'unauthorized', message: 'a token is required' } });
    if (mode === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html>proxy login</html>');
    }
    if (mode === 'garbled-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"msId": "ms1", "now": ');
    }
    if (mode === 'not-found') return json(404, { error: { code: 'not-found', message: 'no such route' } });
    if (req.url === '/api/v1/resources' && mode === 'padded-list') {
      // 2 MiB of JSON whitespace: over the bound of other answers (1 MiB), within the list's.
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(`{"resources":${' '.repeat(2 << 20)}${JSON.stringify(resources.resources)}}`);
    }
    if (req.url === '/api/v1/resources' && mode === 'endless-list') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"resources":[');
      const chunk = ' '.repeat(1 << 16);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          /* fill the socket */
        }
      };
      res.on('drain', pump);
      return pump();
    }
    const answers: Record<string, unknown> = {
      '/api/v1/server': mode === 'wrong-shape' ? { msId: 7 } : server,
      '/api/v1/partitions': partitions,
      '/api/v1/resources': resources,
      '/api/v1/resources/kvm2': kvm2,
    };
    const answer = answers[req.url ?? ''];
    return answer === undefined
      ? json(404, { error: { code: 'not-found', message: 'unknown resource' } })
      : json(200, answer);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hafence-status-cli-'));
    tokenFile = join(dir, 'api.tokens');
    writeFileSync(tokenFile, `# operators\nalice ${TOKEN}\nbob other-token-0123456789abcdef0123456789\n`);
    chmodSync(tokenFile, 0o600);
    http = createServer(handle);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    // Accepts connections and never answers: a hung server.
    silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
    await new Promise((r) => http.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    mode = 'contract';
    seen.length = 0;
  });

  const status = (...args: string[]) => hafence(['status', '--url', url, '--token-file', tokenFile, ...args]);

  it('prints partitions and hosts as JSON (stdout is not a TTY), sending the first pair’s token as Bearer', async () => {
    const r = await status();
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).to.deep.equal({ server, ...partitions, resources: resources.resources });
    expect(seen.map((s) => s.path).sort()).to.deep.equal(['/api/v1/partitions', '/api/v1/resources', '/api/v1/server']);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).to.equal(true);
    expect(r.stdout + r.stderr).not.to.include(TOKEN);
  });

  it('RESOURCE prints its detail (timers, episode counters, transitions with reasons)', async () => {
    const r = await status('kvm2', '--json');
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ server, resource: kvm2 });
    const unknown = await status('kvm9');
    expect(unknown.code).to.equal(1);
    expect((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code).to.equal('HAF2002');
  });

  it('a bare-token file works too; no token or a wrong one is refused by the server: exit 3', async () => {
    const bare = join(dir, 'bare.token');
    writeFileSync(bare, `${TOKEN}\n`);
    chmodSync(bare, 0o600);
    expect((await hafence(['status', '--url', url, '--token-file', bare])).code).to.equal(0);
    const none = await hafence(['status', '--url', url]);
    expect(none.code).to.equal(3);
    expect((JSON.parse(none.stdout) as { error: { code: string } }).error.code).to.equal('HAF1001');
    const wrong = join(dir, 'wrong.token');
    writeFileSync(wrong, 'ops wrong-token-0123456789abcdef0123456789\n');
    chmodSync(wrong, 0o600);
    const w = await hafence(['status', '--url', url, '--token-file', wrong]);
    expect(w.code).to.equal(3);
    expect(w.stdout + w.stderr).not.to.include('wrong-token-0123456789abcdef0123456789');
  });

  it('nothing listening, or a server that never answers: exit 4 within the timeout', async () => {
    const closed = await hafence(['status', '--url', 'http://127.0.0.1:9', '--token-file', tokenFile]);
    expect(closed.code).to.equal(4);
    const hung = await hafence(['status', '--url', silentUrl, '--token-file', tokenFile, '--timeout-ms', '1500']);
    expect(hung.code).to.equal(4);
    expect((JSON.parse(hung.stdout) as { error: { code: string } }).error.code).to.equal('HAF1002');
    expect(hung.ms).to.be.below(10_000);
  });

  it('an answer that is not the API’s JSON (HTML, cut JSON, another shape, 404 on a route) exits 5', async () => {
    for (const m of ['html', 'garbled-json', 'wrong-shape', 'not-found'] as const) {
      mode = m;
      const r = await status();
      expect(r.code, `${m}: ${r.stderr}`).to.equal(5);
      expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code, m).to.equal('HAF1004');
    }
  });

  it('each answer is bounded by its route: a 2 MiB resource list is read, an endless one is exit 5 naming it', async () => {
    mode = 'padded-list';
    const padded = await status('--json');
    expect(padded.code, padded.stderr).to.equal(0);
    expect((JSON.parse(padded.stdout) as { resources: unknown }).resources).to.deep.equal(resources.resources);
    mode = 'endless-list';
    const endless = await status('--json', '--timeout-ms', '20000');
    expect(endless.code, endless.stderr).to.equal(5);
    expect((JSON.parse(endless.stdout) as { error: { code: string } }).error.code).to.equal('HAF1004');
    expect(endless.stderr).to.include('/api/v1/resources');
    expect(endless.ms).to.be.below(15_000);
  });

  it('usage errors exit 2: a bad URL, a URL with credentials (not echoed), a token file open to others', async () => {
    expect((await hafence(['status', '--url', 'ftp://x'])).code).to.equal(2);
    const cred = await hafence(['status', '--url', 'http://ops:s3cret-pw@127.0.0.1:1/']);
    expect(cred.code).to.equal(2);
    expect(cred.stdout + cred.stderr).not.to.include('s3cret-pw');
    const open = join(dir, 'open.token');
    writeFileSync(open, `${TOKEN}\n`);
    chmodSync(open, 0o644);
    const o = await hafence(['status', '--url', url, '--token-file', open]);
    expect(o.code).to.equal(2);
    expect(o.stdout + o.stderr).not.to.include(TOKEN);
    const short = join(dir, 'short.token');
    writeFileSync(short, 'ops tooshort\n');
    chmodSync(short, 0o600);
    expect((await hafence(['status', '--url', url, '--token-file', short])).code).to.equal(2);
  });

  it('the terminal tables: partitions, then hosts with cluster, state, power and what each waits for', async () => {
    const { formatDetail, formatOverview } = (await import(
      new URL('../../dist/status/status-table.js', import.meta.url).href
    )) as {
      formatOverview(s: unknown, p: unknown, r: unknown): string;
      formatDetail(s: unknown, r: unknown): string;
    };
    const text = formatOverview(server, partitions, resources.resources);
    const lines = text.split('\n');
    const hostHeader = lines.findIndex((l) => l.startsWith('HOST'));
    expect(lines.findIndex((l) => l.startsWith('PARTITION'))).to.be.within(0, hostHeader - 1);
    expect(lines[hostHeader + 1]!.split(/\s{2,}/)).to.deep.equal([
      'kvm1',
      'c1',
      'AVAILABLE',
      '1m 05s ago',
      'ON',
      'check in 4s',
    ]);
    expect(lines[hostHeader + 2]!.split(/\s{2,}/)).to.deep.equal([
      'kvm2',
      'c1',
      'SUSPECT',
      '1m 05s ago',
      'ON',
      'activity in 12s',
    ]);
    const detail = formatDetail(server, kvm2);
    expect(detail).to.match(/state\s+SUSPECT since 1m 05s ago/);
    expect(detail).to.match(/nextCheckAt\s+in 4s/);
    expect(detail).to.match(/inactiveStreak\s+2/);
    expect(detail).to.match(/20s ago\s+AVAILABLE\s+SUSPECT\s+health check failed/);
  });
});
