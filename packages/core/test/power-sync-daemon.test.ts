import { expect } from 'chai';
import { PowerManagementService, Secret, type HaEvent, type PowerTransition } from '@hafence/core';
import { FakePowerDriver, TestClock } from '@hafence/testkit';

const target = (host: string) => ({ host, address: `bmc-${host}`, username: 'admin', password: new Secret('secret') });

function setup(config: object, latencyMs = 0) {
  const clock = new TestClock();
  const driver = new FakePowerDriver({ clock, latencyMs });
  const svc = new PowerManagementService({
    clock,
    drivers: [driver],
    config: { powerSyncInterval: 10_000, jitterFraction: 0.1, powerOpTimeout: 5000, ...config },
  });
  const events: HaEvent[] = [];
  const transitions: PowerTransition[] = [];
  svc.events$.subscribe((e) => events.push(e));
  svc.transitions$.subscribe((t) => transitions.push(t));
  return { clock, driver, svc, events, transitions };
}

describe('power sync daemon', () => {
  it('reads every host about once per interval and follows changes made behind its back', async () => {
    const { clock, driver, svc, transitions } = setup({});
    for (const h of ['a', 'b', 'c']) svc.register(h, { target: target(h) });
    svc.startSync();
    await clock.advance(10_000);
    expect(['a', 'b', 'c'].map((h) => svc.state(h))).to.deep.equal(['ON', 'ON', 'ON']);
    driver.host('b').power = 'OFF';
    await clock.advance(11_000);
    expect(svc.state('b')).to.equal('OFF');
    expect(transitions.at(-1)).to.deep.include({ host: 'b', from: 'ON', to: 'OFF', by: 'sync' });
    expect(transitions.at(-1)?.seq).to.be.a('number');
    const reads = driver.host('a').log.filter((op) => op === 'status').length;
    await clock.advance(100_000);
    const more = driver.host('a').log.filter((op) => op === 'status').length - reads;
    expect(more).to.be.within(9, 11); // 10 s ± 10 % jitter
    svc.stopSync();
    const frozen = driver.host('a').log.length;
    await clock.advance(60_000);
    expect(driver.host('a').log.length).to.equal(frozen);
    await svc.close();
  });

  it('firstRead: a host not read yet is read now, within the concurrency limit; a failed read ends it too', async () => {
    const { clock, driver, svc } = setup({ powerSyncConcurrency: 2, powerSyncInterval: 30_000 }, 100);
    for (const h of ['a', 'b', 'c']) svc.register(h, { target: target(h) });
    expect(svc.firstRead('a'), 'no sync daemon running').to.equal(undefined);
    svc.startSync();
    driver.host('a').fault = 'down';
    const ended: string[] = [];
    const t0 = clock.now();
    const reads = ['a', 'b', 'c'].map((h) => svc.firstRead(h)!.then(() => ended.push(`${h}@${clock.now() - t0}`)));
    await clock.advance(100);
    expect(ended).to.deep.equal(['b@100']); // a waits for its timeout; c for a permit (limit 2)
    await clock.advance(100);
    expect(ended).to.deep.equal(['b@100', 'c@200']);
    expect(svc.firstRead('a'), 'joins the read running').to.be.instanceOf(Promise);
    await clock.advance(5_000);
    await Promise.all(reads);
    expect(ended).to.deep.equal(['b@100', 'c@200', 'a@5000']);
    expect(svc.state('a')).to.equal('UNKNOWN');
    // Read once (whatever the outcome): a judgement made since stands; one made before the read ended does not.
    expect(svc.firstRead('a')).to.equal(undefined);
    expect(svc.firstRead('b')).to.equal(undefined);
    expect(svc.firstRead('b', t0 + 50), 'judged before the read ended').to.be.instanceOf(Promise);
    // One read each so far (a down chassis logs nothing): the next is planned from there, not at the old phase.
    expect(['b', 'c'].map((h) => driver.host(h).log.filter((op) => op === 'status').length)).to.deep.equal([1, 1]);
    await svc.close();
  });

  it('jitter is deterministic for a seed and differs between hosts', async () => {
    const times = async (seed: number) => {
      const { clock, driver, svc } = setup({ seed });
      const reads: string[] = [];
      const orig = driver.status.bind(driver);
      driver.status = async (t, o) => {
        reads.push(`${t.host}@${clock.now()}`);
        return orig(t, o);
      };
      for (const h of ['a', 'b']) svc.register(h, { target: target(h) });
      svc.startSync();
      await clock.advance(35_000);
      svc.stopSync();
      return reads;
    };
    const one = await times(7);
    expect(await times(7)).to.deep.equal(one);
    expect(await times(8)).to.not.deep.equal(one);
    const at = one.map((s) => Number(s.split('@')[1]));
    expect(new Set(at).size).to.equal(at.length);
  });

  it('keeps at most powerSyncConcurrency reads in flight', async () => {
    const { clock, driver, svc } = setup({ powerSyncConcurrency: 3, jitterFraction: 0 }, 2000);
    let max = 0;
    const orig = driver.status.bind(driver);
    let active = 0;
    driver.status = async (t, o) => {
      active++;
      max = Math.max(max, active);
      try {
        return await orig(t, o);
      } finally {
        active--;
      }
    };
    for (let i = 0; i < 12; i++) svc.register(`h${i}`, { target: target(`h${i}`) });
    svc.startSync();
    for (let i = 0; i < 40; i++) await clock.advance(500);
    expect(max).to.equal(3);
    expect(svc.list().every((h) => svc.state(h) === 'ON')).to.equal(true);
    svc.stopSync();
  });

  it('a host that refuses credentials stays UNKNOWN and is reported once a day', async () => {
    const { clock, driver, svc, events } = setup({});
    svc.register('h', { target: target('h') });
    driver.host('h').fault = 'auth';
    svc.startSync();
    await clock.advance(3 * 3_600_000);
    expect(svc.state('h')).to.equal('UNKNOWN');
    expect(events.filter((e) => e.type === 'power.auth-failed')).to.have.length(1);
    await clock.advance(22 * 3_600_000);
    expect(events.filter((e) => e.type === 'power.auth-failed')).to.have.length(2);
    svc.stopSync();
  });
});
