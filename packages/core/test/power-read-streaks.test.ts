import { expect } from 'chai';
import { ConfigError, PowerManagementService, Secret, type HaEvent } from '@hafence/core';
import { FakePowerDriver, TestClock } from '@hafence/testkit';

// SPEC §5.1 "A status read is not an action" (hafence issue 8, items 7 and 8).

const target = (host: string) => ({ host, address: `bmc-${host}`, username: 'admin', password: new Secret('secret') });
const HOUR = 3_600_000;
const INTERVAL = 30_000;
const CAP = 300_000;

interface Read {
  readonly start: number;
  end: number;
  readonly host: string;
}

function setup(config: object = {}) {
  const clock = new TestClock();
  const driver = new FakePowerDriver({ clock });
  const reads: Read[] = [];
  const orig = driver.status.bind(driver);
  driver.status = async (t, o) => {
    const read: Read = { start: clock.now(), end: clock.now(), host: t.host };
    reads.push(read);
    try {
      return await orig(t, o);
    } finally {
      read.end = clock.now();
    }
  };
  const svc = new PowerManagementService({
    clock,
    drivers: [driver],
    config: { powerSyncInterval: INTERVAL, jitterFraction: 0.1, powerOpTimeout: 5000, ...config },
  });
  const events: HaEvent[] = [];
  svc.events$.subscribe((e) => events.push(e));
  svc.register('h', { target: target('h') });
  const alerts = (code: string) => events.filter((e) => e.type === 'alert' && e.code === code);
  const ofType = (type: HaEvent['type']) => events.filter((e) => e.type === type);
  return { clock, driver, svc, events, reads, alerts, ofType };
}

const settle = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Time from the end of each read to the start of the next one: the daemon's planned delays. */
const pauses = (reads: readonly Read[]): number[] => {
  const out: number[] = [];
  let previous: Read | undefined;
  for (const read of reads) {
    if (previous) out.push(read.start - previous.end);
    previous = read;
  }
  return out;
};

describe('power status reads: failure streaks, alerts and backoff (SPEC §5.1)', () => {
  it('a BMC dead from the start raises one controller-unreachable alert, no power.action per read, and is polled with backoff up to 5 min', async () => {
    const { clock, driver, svc, reads, alerts, ofType } = setup();
    driver.host('h').fault = 'down';
    svc.startSync();
    await clock.advance(3 * HOUR);
    svc.stopSync();

    expect(svc.state('h')).to.equal('UNKNOWN');
    expect(ofType('power.action'), 'a status read is not an action').to.deep.equal([]);
    expect(ofType('power.read-failing')).to.have.length(1);
    expect(ofType('power.read-failing')[0]).to.deep.include({ host: 'h', t: reads[0]?.end });
    const unreachable = alerts('controller-unreachable');
    expect(unreachable).to.have.length(1);
    expect(unreachable[0]).to.deep.include({ level: 'warning', resource: 'h', t: reads[2]?.end });
    expect(alerts('controller-reachable')).to.deep.equal([]);

    // 30 s, 60 s, 120 s, 240 s, then 5 min (±10 % jitter, never above the cap)
    const gaps = pauses(reads);
    gaps.forEach((gap, i) => {
      const base = Math.min(INTERVAL * 2 ** i, CAP);
      expect(gap, `pause after failed read ${i + 1}`).to.be.within(
        Math.floor(base * 0.9),
        Math.min(Math.ceil(base * 1.1), CAP),
      );
    });
    expect(reads.length).to.be.within(30, 45); // vs ~300 without backoff
  });

  it("the third failed read in a row alerts even when it is the engine's own (by: ha), once per streak", async () => {
    const { clock, driver, svc, alerts, ofType } = setup({ powerReadsToUnknown: 3 });
    const read = async (by: string) => {
      const r = settle(svc.status('h', { by }));
      await clock.advance(5000); // the dead BMC's timeout
      return r;
    };
    await read('sync');
    expect(svc.state('h')).to.equal('ON');
    driver.host('h').fault = 'down';
    await read('sync');
    await read('operator');
    expect(alerts('controller-unreachable')).to.deep.equal([]);
    await read('ha');
    expect(svc.state('h')).to.equal('UNKNOWN');
    expect(alerts('controller-unreachable')).to.have.length(1);
    expect(alerts('controller-unreachable')[0]).to.deep.include({ level: 'warning', resource: 'h', t: clock.now() });
    for (const by of ['ha', 'sync', 'ha']) await read(by);
    expect(alerts('controller-unreachable'), 'once per streak').to.have.length(1);
    expect(ofType('power.read-failing'), 'once per streak').to.have.length(1);
    expect(ofType('power.action')).to.deep.equal([]);

    driver.host('h').fault = 'none';
    await read('ha');
    expect(ofType('power.read-ok')).to.have.length(1);
    expect(ofType('power.read-ok')[0]).to.deep.include({ host: 'h', failures: 6 });
    expect(alerts('controller-reachable')).to.have.length(1);
    driver.host('h').fault = 'down';
    for (const by of ['ha', 'ha', 'ha']) await read(by);
    expect(alerts('controller-unreachable'), 'a new streak alerts again').to.have.length(2);
  });

  it('a BMC dead from the start alerts after powerReadsToUnknown reads whoever reads', async () => {
    const { clock, driver, svc, alerts } = setup({ powerReadsToUnknown: 2 });
    driver.host('h').fault = 'down';
    const first = settle(svc.status('h', { by: 'ha' }));
    await clock.advance(5000);
    await first;
    expect(alerts('controller-unreachable')).to.deep.equal([]);
    const second = settle(svc.status('h', { by: 'ha' }));
    await clock.advance(5000);
    await second;
    expect(alerts('controller-unreachable')).to.have.length(1);
  });

  it('a short streak reports its start and end but raises no alert', async () => {
    const { clock, driver, svc, events } = setup();
    await svc.status('h', { by: 'sync' });
    driver.host('h').fault = 'down';
    const failed = settle(svc.status('h', { by: 'sync' }));
    await clock.advance(5000);
    const err = await failed;
    driver.host('h').fault = 'none';
    await svc.status('h', { by: 'sync' });
    expect(events.map((e) => e.type)).to.deep.equal(['power.transition', 'power.read-failing', 'power.read-ok']);
    expect(events[1]).to.deep.include({ host: 'h', error: (err as Error).message });
    expect(events[2]).to.deep.include({ host: 'h', failures: 1 });
  });

  it('a BMC that comes back is reported once and polled at the normal interval again', async () => {
    const { clock, driver, svc, reads, alerts, ofType } = setup();
    driver.host('h').fault = 'down';
    svc.startSync();
    await clock.advance(HOUR);
    const failed = reads.length;
    driver.host('h').fault = 'none';
    await clock.advance(CAP + 10_000);
    expect(svc.state('h')).to.equal('ON');
    expect(ofType('power.read-ok')).to.have.length(1);
    expect(ofType('power.read-ok')[0]).to.deep.include({ host: 'h', failures: failed });
    expect(alerts('controller-reachable')).to.have.length(1);
    expect(alerts('controller-reachable')[0]).to.deep.include({ level: 'info', resource: 'h', t: reads[failed]?.end });
    const before = reads.length;
    await clock.advance(HOUR);
    svc.stopSync();
    for (const gap of pauses(reads.slice(failed))) expect(gap).to.be.within(INTERVAL * 0.9, INTERVAL * 1.1);
    expect(reads.length - before).to.be.within(109, 133); // 1 h / 30 s ± 10 %
    expect(alerts('controller-unreachable')).to.have.length(1);
    expect(ofType('power.action')).to.deep.equal([]);
  });

  it('a routine successful sync read emits nothing', async () => {
    const { clock, svc, events, reads } = setup();
    svc.startSync();
    await clock.advance(HOUR);
    svc.stopSync();
    expect(reads.length).to.be.greaterThan(100);
    expect(events.map((e) => e.type)).to.deep.equal(['power.transition']); // UNKNOWN → ON, once
  });

  it('commands are still actions', async () => {
    const { svc, ofType } = setup();
    await svc.command('h', 'off', { by: 'operator' });
    await svc.identify('h', 5, { by: 'operator' });
    expect(ofType('power.action').map((e) => (e as { action: string }).action)).to.deep.equal(['off', 'identify']);
  });

  it('a BMC that refuses the credentials gets its own once-a-day alert, not controller-unreachable, and is polled with backoff', async () => {
    const { clock, driver, svc, reads, alerts, ofType } = setup();
    driver.host('h').fault = 'auth';
    svc.startSync();
    await clock.advance(3 * HOUR);
    svc.stopSync();
    expect(svc.state('h')).to.equal('UNKNOWN');
    expect(ofType('power.auth-failed')).to.have.length(1);
    expect(alerts('controller-auth-refused')).to.have.length(1);
    expect(alerts('controller-unreachable')).to.deep.equal([]);
    expect(ofType('power.read-failing')).to.have.length(1);
    expect(reads.length).to.be.within(30, 45);
  });

  it('the backoff cap is configurable', async () => {
    const { clock, driver, svc, reads } = setup({ powerSyncMaxBackoff: 60_000 });
    driver.host('h').fault = 'down';
    svc.startSync();
    await clock.advance(HOUR);
    svc.stopSync();
    const gaps = pauses(reads);
    expect(Math.max(...gaps)).to.be.at.most(60_000);
    expect(gaps.slice(2).every((g) => g >= 54_000)).to.equal(true);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new PowerManagementService({ drivers: [driver], config: { powerSyncMaxBackoff: bad } }), String(bad))
        .to.throw(ConfigError)
        .with.property('issues')
        .that.deep.include({ path: 'powerSyncMaxBackoff', value: bad, rule: 'must be a positive number of ms' });
    }
  });
});
