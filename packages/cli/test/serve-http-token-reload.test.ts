import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { ServeRig } from './serve-rig.js';

const ALICE = 'reload-api-alice-3c9e1f7a5b2d8c4e6f0a1b';
const BOB = 'reload-api-bob-8d2f6a0c4e9b1d7f3a5c2e';

describe('serve --http: SIGHUP re-reads the token file (real processes)', function () {
  this.timeout(60_000);
  let port = 0;
  let rig: ServeRig;
  let tokens = '';

  const status = (token: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/server',
          agent: false,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume().on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject).end();
    });
  const write = (text: string) => {
    writeFileSync(tokens, text);
    chmodSync(tokens, 0o600);
  };

  before(async () => {
    [port] = (await freePorts(1)) as [number];
    rig = new ServeRig({
      name: 'token-reload',
      password: 'Reload-Bmc-Pw-5521',
      token: 'reload-agent-token-1f4b7c9e2a6d0e3b',
      hosts: ['h1'],
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    tokens = join(rig.dir, 'api.tokens');
    write(`alice ${ALICE}\n`);
    await rig.start();
    await waitFor('the API listening', 45_000, () => rig.serve.stderr.includes('operator API listening'));
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });
  after(async () => rig.close());

  it('a revoked token is refused and a new one accepted after SIGHUP; a bad file keeps the identities', async () => {
    expect([await status(ALICE), await status(BOB)]).to.deep.equal([200, 401]);
    write(`bob ${BOB}\n`);
    rig.serve.kill('SIGHUP');
    await waitFor('the file re-read', 10_000, () => rig.serve.stderr.includes('token file re-read'));
    expect([await status(ALICE), await status(BOB)]).to.deep.equal([401, 200]);
    write('bob short\n');
    rig.serve.kill('SIGHUP');
    await waitFor('the bad file refused', 10_000, () => rig.serve.stderr.includes('token file not re-read'));
    expect(rig.serve.alive).to.equal(true);
    expect([await status(ALICE), await status(BOB)]).to.deep.equal([401, 200]);
    expect(rig.serve.stderr).not.to.include(BOB);
    expect(rig.serve.stderr).not.to.include(ALICE);
  });
});
