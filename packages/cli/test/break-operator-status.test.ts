import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAFENCE_BIN } from './power-sim-helper.js';

/*
 * Break tests (issue 12): `hafence status` against a hostile server that answers a body
 * without end. The README: "5 an answer that is not the API's JSON", "3 the token refused
 * (401)"; the agent client already treats an answer over 1 MiB as a protocol error.
 */

const TOKEN = 'break-status-token-0123456789abcdef0123';

type Mode = 'endless-200' | 'endless-401' | 'redirect';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  maxRssKb: number;
}

/** Runs `hafence status` under `/usr/bin/time -f %M` to read its peak memory. */
function status(url: string, tokenFile: string, timeoutMs: number): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/time',
      [
        '-f',
        'MAXRSS=%M',
        process.execPath,
        HAFENCE_BIN,
        'status',
        '--url',
        url,
        '--token-file',
        tokenFile,
        '--json',
      ].concat(['--timeout-ms', String(timeoutMs)]),
      { timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        const rss = /MAXRSS=(\d+)/.exec(stderr);
        resolve({ code, stdout, stderr, ms: Date.now() - started, maxRssKb: rss ? Number(rss[1]) : -1 });
      },
    );
  });
}

describe('break: hafence status against a server that never stops answering', function () {
  this.timeout(40_000);
  let dir: string;
  let tokenFile: string;
  let http: Server;
  let other: Server;
  let url: string;
  let mode: Mode = 'endless-200';
  const otherSaw: (string | undefined)[] = [];

  const endless = (res: ServerResponse, code: number) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.write('{"msId":"');
    const chunk = 'a'.repeat(1 << 16);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) {
        /* fill the socket */
      }
    };
    res.on('drain', pump);
    pump();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hafence-break-status-'));
    tokenFile = join(dir, 'api.token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    other = createServer((req, res) => {
      otherSaw.push(req.headers.authorization);
      res.end('{}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as { port: number }).port;
    http = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (mode === 'endless-200') endless(res, 200);
      else if (mode === 'endless-401') endless(res, 401);
      else {
        res.writeHead(302, { location: `http://127.0.0.1:${otherPort}${req.url ?? '/'}` });
        res.end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  });

  after(async () => {
    http.closeAllConnections();
    other.closeAllConnections();
    await new Promise((r) => http.close(r));
    await new Promise((r) => other.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 200 answer without end is a protocol error (exit 5) long before the timeout, in bounded memory', async () => {
    mode = 'endless-200';
    const run = await status(url, tokenFile, 8_000);
    expect(run.code, run.stderr).to.equal(5);
    expect(run.ms).to.be.below(6_000);
    expect(run.maxRssKb).to.be.below(200_000);
  });

  it('a 401 with a body without end exits 3 at once, without reading the body', async () => {
    mode = 'endless-401';
    const run = await status(url, tokenFile, 8_000);
    expect(run.code, run.stderr).to.equal(3);
    expect(run.ms).to.be.below(6_000);
    expect(run.maxRssKb).to.be.below(200_000);
  });

  it('a redirect to another origin is not followed and the token does not go there (exit 5)', async () => {
    mode = 'redirect';
    const run = await status(url, tokenFile, 5_000);
    expect(run.code, run.stderr).to.equal(5);
    expect(otherSaw).to.deep.equal([]);
    expect(run.stdout + run.stderr).not.to.include(TOKEN);
  });
});
