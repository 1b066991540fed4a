import { expect } from 'chai';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Secret } from '@hafence/core';
import { HostAgent, readTokenFile, SimulatedWatchdog, tokenMatches } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { MemFs, TEST_TOKEN } from './helpers/mem-fs.js';

describe('agent management server: token authentication', () => {
  let agent: HostAgent;
  let base: string;
  let clock: TestClock;

  beforeEach(async () => {
    clock = new TestClock();
    agent = new HostAgent({
      hostId: 'h1',
      mount: '/mnt/pool',
      token: new Secret(TEST_TOKEN),
      watchdog: new SimulatedWatchdog(clock),
      clock,
      fs: new MemFs(),
    });
    const address = await agent.start();
    base = `http://127.0.0.1:${address.port}`;
  });
  afterEach(async () => agent.stop());

  async function get(path: string, auth?: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${base}${path}`, { headers: auth === undefined ? {} : { authorization: auth } });
    return { status: res.status, text: await res.text() };
  }

  it('rejects a request without a token', async () => {
    expect((await get('/health')).status).to.equal(401);
  });

  it('rejects a wrong token of the same length, a shorter one, and a non-bearer scheme', async () => {
    const wrong = TEST_TOKEN.slice(0, -1) + (TEST_TOKEN.endsWith('k') ? 'x' : 'k');
    for (const auth of [`Bearer ${wrong}`, 'Bearer short', `Basic ${TEST_TOKEN}`, `Bearer ${TEST_TOKEN}x`]) {
      const res = await get('/health', auth);
      expect(res.status, auth).to.equal(401);
      expect(res.text).to.not.include(TEST_TOKEN.slice(4, 20));
    }
  });

  it('accepts the right token and answers health with its storage state and heartbeat', async () => {
    await clock.advance(0);
    const res = await get('/health', `Bearer ${TEST_TOKEN}`);
    expect(res.status).to.equal(200);
    const body = JSON.parse(res.text) as { connected: boolean; storageOk: boolean; heartbeat: { armed: boolean } };
    expect(body.connected).to.equal(true);
    expect(body.storageOk).to.equal(true);
    expect(body.heartbeat.armed).to.equal(false);
  });

  it('an unauthenticated request does not count as management-server contact; an authenticated one does', async () => {
    await clock.advance(50_000);
    await get('/health', 'Bearer nope');
    await clock.advance(20_000);
    const peer = JSON.parse((await get('/peer/status', `Bearer ${TEST_TOKEN}`)).text) as { msContactOk: boolean };
    expect(peer.msContactOk).to.equal(false);
    await get('/health', `Bearer ${TEST_TOKEN}`);
    const after = JSON.parse((await get('/peer/status', `Bearer ${TEST_TOKEN}`)).text) as { msContactOk: boolean };
    expect(after.msContactOk).to.equal(true);
  });

  it('compares tokens in constant time over digests (any length)', () => {
    const secret = new Secret(TEST_TOKEN);
    expect(tokenMatches(TEST_TOKEN, secret)).to.equal(true);
    expect(tokenMatches('', secret)).to.equal(false);
    expect(tokenMatches(`${TEST_TOKEN}${TEST_TOKEN}`, secret)).to.equal(false);
  });

  it('reads the token from a file and never echoes its content in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hafence-token-'));
    try {
      await writeFile(join(dir, 'ok'), `${TEST_TOKEN}\n`, { mode: 0o600 });
      expect((await readTokenFile(join(dir, 'ok'))).reveal()).to.equal(TEST_TOKEN);
      await writeFile(join(dir, 'short'), 'sekrit', { mode: 0o600 });
      const err = await readTokenFile(join(dir, 'short')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.not.include('sekrit');
      // readable by group or others: refused like ssh refuses a loose private key, content never shown
      await writeFile(join(dir, 'loose'), `${TEST_TOKEN}\n`, { mode: 0o644 });
      await chmod(join(dir, 'loose'), 0o644);
      const loose = await readTokenFile(join(dir, 'loose')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(loose).to.be.instanceOf(ConfigError);
      expect((loose as Error).message)
        .to.match(/group or others/)
        .and.not.include(TEST_TOKEN);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
