import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { HostAgent, SimulatedWatchdog, type PeerStatus } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { MemFs, TEST_TOKEN } from './helpers/mem-fs.js';

const S = 1_000;

interface Rig {
  clock: TestClock;
  fs: MemFs;
  watchdog: SimulatedWatchdog;
  agent: HostAgent;
  base: string;
  stops: number[];
  peers: PeerStatus[];
  resets: number[];
}

async function rig(options: { armed?: boolean; flags?: Map<string, string> } = {}): Promise<Rig> {
  const clock = new TestClock();
  const fs = new MemFs();
  const resets: number[] = [];
  const watchdog = new SimulatedWatchdog(clock, 15 * S, () => resets.push(clock.now()));
  const stops: number[] = [];
  const r = { clock, fs, watchdog, stops, resets, peers: [] as PeerStatus[] } as Rig;
  r.agent = new HostAgent({
    hostId: 'h1',
    mount: '/mnt/pool',
    token: new Secret(TEST_TOKEN),
    watchdog,
    clock,
    fs,
    heartbeatIntervalMs: 10 * S,
    selfFenceAfterMs: 60 * S,
    armed: options.armed ?? true,
    stopVms: async () => {
      stops.push(clock.now());
    },
    peerProbe: async () => r.peers,
    readFs: {
      readdir: async () => [],
      readFile: async (path) => {
        const text = options.flags?.get(path);
        if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        return text;
      },
    },
  });
  r.base = `http://127.0.0.1:${(await r.agent.start()).port}`;
  return r;
}

function msRequest(r: Rig, path = '/health'): Promise<Response> {
  return fetch(`${r.base}${path}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
}

describe('host agent: self-fence only when isolated', () => {
  let r: Rig;
  afterEach(async () => r?.agent.stop());

  it('heartbeat write failures are reported in health while a management server reaches it (no self-fence)', async () => {
    r = await rig();
    r.fs.failWith = 'ENOSPC';
    for (let t = 0; t < 12; t++) {
      await r.clock.advance(10 * S);
      await msRequest(r);
    }
    const health = (await (await msRequest(r)).json()) as { storageOk: boolean; detail: string };
    expect(health.storageOk).to.equal(false);
    expect(health.detail).to.include('ENOSPC');
    expect(r.agent.status().selfFenced).to.equal(false);
    expect(r.stops).to.deep.equal([]);
  });

  it('self-fences between selfFenceAfter and one interval later: VMs stopped first, then the watchdog starves', async () => {
    r = await rig();
    const lost = r.clock.now();
    r.fs.failWith = 'EROFS';
    await r.clock.advance(59 * S);
    expect(r.agent.status().selfFenced, 'not before selfFenceAfter').to.equal(false);
    await r.clock.advance(11 * S);
    expect(r.agent.status().selfFenced).to.equal(true);
    expect(r.stops).to.have.length(1);
    const stoppedAt = at(r.stops, 0);
    expect(stoppedAt - lost).to.be.within(60 * S, 70 * S);
    const lastFeed = at(r.watchdog.feeds, -1);
    expect(lastFeed).to.be.at.most(stoppedAt);
    await r.clock.advance(5 * 60 * S);
    expect(
      r.watchdog.feeds.filter((t) => t > stoppedAt),
      'watchdog not fed after the self-fence',
    ).to.deep.equal([]);
    expect(r.resets).to.have.length(1);
    expect(at(r.resets, 0) - lastFeed).to.equal(15 * S);
    const health = (await (await msRequest(r)).json()) as { connected: boolean; detail: string };
    expect(health).to.include({ connected: false, detail: 'self-fencing' });
  });

  it('writes succeeding keep it alive without any management-server request', async () => {
    r = await rig();
    await r.clock.advance(10 * 60 * S);
    expect(r.agent.status().selfFenced).to.equal(false);
    expect(r.watchdog.feeds.length).to.be.greaterThan(50);
    expect(r.resets).to.deep.equal([]);
  });

  it('holds while a majority of reachable peers share the loss, and fences once they no longer do', async () => {
    r = await rig();
    r.fs.failWith = 'EIO';
    r.peers = [
      { host: 'h2', storageOk: false, msContactOk: false },
      { host: 'h3', storageOk: false, msContactOk: true },
      { host: 'h4', storageOk: true, msContactOk: true },
    ];
    await r.clock.advance(10 * 60 * S);
    expect(r.agent.status().selfFenced).to.equal(false);
    expect(r.agent.status().lastVerdict?.kind).to.equal('holding');
    expect(r.resets).to.deep.equal([]);
    r.peers = r.peers.map((p) => ({ ...p, storageOk: true, msContactOk: true }));
    await r.clock.advance(10 * S);
    expect(r.agent.status().selfFenced).to.equal(true);
  });

  it('no reachable peer at all is isolation (a host cut off from everything)', async () => {
    r = await rig();
    r.fs.failWith = 'EIO';
    r.peers = [];
    await r.clock.advance(70 * S);
    expect(r.agent.status().selfFenced).to.equal(true);
  });

  it('is idle while HA is disabled: no watchdog opened or fed, no self-fence even when fully isolated', async () => {
    r = await rig({ armed: false });
    r.fs.failWith = 'EROFS';
    await r.clock.advance(30 * 60 * S);
    expect(r.watchdog.opened).to.equal(false);
    expect(r.watchdog.feeds).to.deep.equal([]);
    expect(r.agent.status()).to.include({ armed: false, selfFenced: false });
    expect(r.stops).to.deep.equal([]);
    expect(r.resets).to.deep.equal([]);
  });

  it('arms and disarms on a management-server request; the heartbeat carries armed and the watchdog kind', async () => {
    r = await rig({ armed: false });
    await r.clock.advance(10 * S);
    const arm = (armed: boolean) =>
      fetch(`${r.base}/arm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify({ armed }),
      });
    expect((await arm(true)).status).to.equal(200);
    await r.clock.advance(10 * S);
    // resetMarginMs: interval 10 s + peer query 3 s + VM-stop grace 5 s + watchdog 15 s
    expect(r.agent.status().lastRecord).to.include({
      armed: true,
      watchdog: 'simulated',
      selfFenceAfter: 60 * S,
      resetMarginMs: 33 * S,
    });
    expect(r.watchdog.opened).to.equal(true);
    await arm(false);
    await r.clock.advance(10 * S);
    expect(r.agent.status().lastRecord).to.include({ armed: false, watchdog: 'none' });
    expect(r.watchdog.opened, 'magic close on disarm').to.equal(false);
    r.fs.failWith = 'EROFS';
    await r.clock.advance(10 * 60 * S);
    expect(r.resets).to.deep.equal([]);
  });

  it('re-arms from a flag on the mount, applied when the flag changes', async () => {
    const flags = new Map<string, string>();
    r = await rig({ armed: false, flags });
    await r.clock.advance(30 * S);
    expect(r.agent.status().armed).to.equal(false);
    flags.set('/mnt/pool/hafence/ha-h1', 'enabled\n');
    await r.clock.advance(10 * S);
    expect(r.agent.status().armed).to.equal(true);
    flags.set('/mnt/pool/hafence/ha-h1', 'disabled');
    await r.clock.advance(10 * S);
    expect(r.agent.status().armed).to.equal(false);
    expect(r.watchdog.opened).to.equal(false);
  });

  it('applies arm requests in armGen order: refuses a lower armGen (409) and echoes the applied one in heartbeat and health', async () => {
    r = await rig({ armed: false });
    const arm = (body: unknown) =>
      fetch(`${r.base}/arm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify(body),
      });
    const ok = await arm({ armed: true, armGen: 5 });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal({ armed: true, haEnabled: true, armGen: 5, watchdog: 'simulated' });
    const stale = await arm({ armed: false, armGen: 4 });
    expect(stale.status).to.equal(409);
    expect(await stale.json()).to.include({ code: 'HAF5105', armGen: 5 });
    expect((await arm({ armed: false, armGen: 5 })).status, 'same gen, other decision').to.equal(409);
    expect((await arm({ armed: true, armGen: -1 })).status).to.equal(400);
    expect(r.agent.status()).to.include({ armed: true, armGen: 5 });
    await r.clock.advance(10 * S);
    expect(r.agent.status().lastRecord).to.include({ armed: true, armGen: 5 });
    expect(await (await msRequest(r)).json()).to.include({ armGen: 5 });
    expect((await arm({ armed: false, armGen: 6 })).status).to.equal(200);
    await r.clock.advance(10 * S);
    expect(r.agent.status().lastRecord).to.include({ armed: false, armGen: 6 });
    expect((await arm({ armed: true })).status, 'no gen (an older server): the next one').to.equal(200);
    expect(r.agent.status()).to.include({ armed: true, armGen: 7 });
  });

  it('an arm whose watchdog cannot be opened is not applied: its armGen is not echoed', async () => {
    r = await rig({ armed: false });
    r.watchdog.open = async () => {
      throw Object.assign(new Error('busy'), { code: 'EBUSY' });
    };
    const err = await r.agent.arm(true, 3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.include({ code: 'EBUSY' });
    expect(r.agent.status()).to.include({ armed: false, haEnabled: false, armGen: 0 });
  });

  it('a flag on the mount may carry an armGen; a lower one than applied is ignored', async () => {
    const flags = new Map<string, string>();
    r = await rig({ armed: false, flags });
    await r.agent.arm(true, 4);
    flags.set('/mnt/pool/hafence/ha-h1', 'disabled 3');
    await r.clock.advance(10 * S);
    expect(r.agent.status()).to.include({ armed: true, armGen: 4 });
    flags.set('/mnt/pool/hafence/ha-h1', 'disabled 9');
    await r.clock.advance(10 * S);
    expect(r.agent.status()).to.include({ armed: false, armGen: 9 });
    flags.set('/mnt/pool/hafence/ha-h1', 'enabled');
    await r.clock.advance(10 * S);
    expect(r.agent.status(), 'a flag without a gen takes the next one').to.include({ armed: true, armGen: 10 });
  });
});
