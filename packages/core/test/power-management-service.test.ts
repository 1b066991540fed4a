import { expect } from 'chai';
import {
  AbortedError,
  AuthError,
  ConfigError,
  DriverError,
  NotFoundError,
  PowerManagementService,
  ProtocolError,
  Secret,
  TimeoutError,
  UnreachableError,
  delay,
  type HaEvent,
  type PowerTransition,
} from '@hafence/core';
import { FakePowerDriver, TestClock, flushMicrotasks } from '@hafence/testkit';
import { ScriptedDriver, forever } from './power-service-helpers.js';

const PW = 'S3cret-pw-991';
const target = (host: string) => ({ host, address: `bmc-${host}`, username: 'admin', password: new Secret(PW) });

function setup(drivers: ScriptedDriver[] | FakePowerDriver[], config = {}) {
  const clock = new TestClock();
  const svc = new PowerManagementService({ clock, drivers, config: { powerOpTimeout: 1000, ...config } });
  const events: HaEvent[] = [];
  const transitions: PowerTransition[] = [];
  svc.events$.subscribe((e) => events.push(e));
  svc.transitions$.subscribe((t) => transitions.push(t));
  return { clock, svc, events, transitions };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ v, e: undefined as unknown }),
    (e: unknown) => ({ v: undefined, e }),
  );

describe('PowerManagementService', () => {
  it('starts UNKNOWN and a read drives the FSM, with who asked', async () => {
    const d = new ScriptedDriver('a');
    const { svc, events, transitions, clock } = setup([d]);
    svc.register('h1', { target: target('h1') });
    expect(svc.has('h1')).to.equal(true);
    expect(svc.state('h1')).to.equal('UNKNOWN');
    expect(await svc.status('h1', { by: 'operator' })).to.equal('ON');
    expect(svc.state('h1')).to.equal('ON');
    // The read's dispatch number tells our own commands' effects from what was there before.
    expect(transitions).to.deep.equal([{ host: 'h1', from: 'UNKNOWN', to: 'ON', by: 'operator', seq: 1 }]);
    expect(events).to.deep.include({ t: clock.now(), type: 'power.transition', host: 'h1', from: 'UNKNOWN', to: 'ON' });
    expect(
      events.filter((e) => e.type === 'power.action'),
      'a status read is not an action',
    ).to.deep.equal([]);
    await svc.command('h1', 'off', { by: 'ha' });
    expect(events).to.deep.include({
      t: clock.now(),
      type: 'power.action',
      host: 'h1',
      action: 'off',
      by: 'ha',
      ok: true,
      driver: 'a',
      durationMs: 0,
    });
    expect(await svc.status('h1', { by: 'ha' })).to.equal('OFF');
    expect(transitions.at(-1)).to.deep.equal({ host: 'h1', from: 'ON', to: 'OFF', by: 'ha', seq: 3 }); // after the off (2)
    await svc.close();
  });

  it('turns UNKNOWN only after powerReadsToUnknown failed reads in a row', async () => {
    const d = new ScriptedDriver('a');
    const { svc } = setup([d], { powerReadsToUnknown: 3 });
    svc.register('h1', { target: target('h1') });
    await svc.status('h1', { by: 'sync' });
    d.behave = async () => {
      throw new UnreachableError('h1', 'bmc-h1', 'no route');
    };
    for (let i = 0; i < 2; i++) {
      expect((await settle(svc.status('h1', { by: 'sync' }))).e).to.be.instanceOf(UnreachableError);
      expect(svc.state('h1')).to.equal('ON');
    }
    await settle(svc.status('h1', { by: 'sync' }));
    expect(svc.state('h1')).to.equal('UNKNOWN');
    d.behave = async () => {};
    await svc.status('h1', { by: 'sync' });
    expect(svc.state('h1')).to.equal('ON');
  });

  it('times out a driver that ignores its signal: per-call > per-host > global', async () => {
    const d = new ScriptedDriver('a');
    const seen: number[] = [];
    d.behave = async (_op, _t, o) => {
      seen.push(o.timeoutMs);
      await forever();
    };
    const { svc, clock, events } = setup([d], { powerOpTimeout: 5000 });
    svc.register('g', { target: target('g') });
    svc.register('h', { target: target('h'), timeoutMs: 2000 });
    const check = async (p: Promise<unknown>, ms: number) => {
      const r = settle(p);
      await clock.advance(ms - 1);
      await clock.advance(1);
      const { e } = await r;
      expect(e).to.be.instanceOf(TimeoutError);
      expect((e as TimeoutError).ms).to.equal(ms);
      await clock.advance(5000); // the stuck driver's grace on the BMC passes
    };
    await check(svc.status('g', { by: 'operator' }), 5000);
    await check(svc.command('h', 'off', { by: 'ha' }), 2000);
    await check(svc.validate('h', { by: 'operator', timeoutMs: 700 }), 700);
    expect(seen).to.deep.equal([5000, 2000, 700]);
    expect(
      events.filter((e) => e.type === 'power.action' && !e.ok).map((e) => e.type === 'power.action' && e.action),
    ).to.deep.equal(['off', 'validate']);
    expect(
      events.filter((e) => e.type === 'power.read-failing').map((e) => e.type === 'power.read-failing' && e.host),
    ).to.deep.equal(['g']);
  });

  it('aborts the signal it gave the driver when the timeout fires', async () => {
    const d = new ScriptedDriver('a');
    let aborted: unknown;
    d.behave = (_op, _t, o) =>
      new Promise((_res, rej) =>
        o.signal.addEventListener('abort', () => {
          aborted = o.signal.reason;
          rej(o.signal.reason);
        }),
      );
    const { svc, clock } = setup([d]);
    svc.register('h', { target: target('h') });
    const r = settle(svc.status('h', { by: 'operator' }));
    await clock.advance(1000);
    expect((await r).e).to.be.instanceOf(TimeoutError);
    expect(aborted).to.be.instanceOf(TimeoutError);
  });

  it('never runs two operations on one BMC at once, but hosts run in parallel', async () => {
    const d = new ScriptedDriver('a');
    const clock0 = { ref: undefined as TestClock | undefined };
    d.behave = async (_op, _t, o) => delay(clock0.ref!, 100, o.signal);
    const { svc, clock } = setup([d]);
    clock0.ref = clock;
    svc.register('h1', { target: target('h1') });
    svc.register('h2', { target: target('h2') });
    const all = Promise.all([
      svc.status('h1', { by: 'sync' }),
      svc.command('h1', 'off', { by: 'ha' }),
      svc.identify('h1', 5, { by: 'operator' }),
      svc.status('h2', { by: 'sync' }),
    ]);
    await clock.advance(100);
    expect(d.maxActive).to.equal(2); // h1 and h2 together, never two on h1
    await clock.advance(200);
    await all;
    expect(d.calls).to.deep.equal(['status', 'status', 'off', 'identify 5']);
  });

  it('falls back to the next driver; an AuthError wins the report when all fail', async () => {
    const first = new ScriptedDriver('ipmi');
    const second = new ScriptedDriver('script');
    first.behave = async () => {
      throw new UnreachableError('h', 'bmc-h', 'no answer');
    };
    second.power = 'OFF';
    const { svc } = setup([first, second]);
    svc.register('h', { drivers: ['ipmi', 'script'], target: target('h') });
    expect(await svc.status('h', { by: 'operator' })).to.equal('OFF');
    first.behave = async () => {
      throw new AuthError('h', 'ipmi');
    };
    second.behave = async () => {
      throw new DriverError('script', 'h', 'exit 1');
    };
    expect((await settle(svc.status('h', { by: 'operator' }))).e).to.be.instanceOf(AuthError);
    first.behave = async () => {
      throw new ProtocolError('h', 'garbage');
    };
    second.calls = [];
    expect((await settle(svc.status('h', { by: 'operator' }))).e).to.be.instanceOf(ProtocolError);
    expect(second.calls).to.deep.equal([]); // a garbled answer is not retried elsewhere
  });

  it('power.action names the driver that answered after a fallback, and the time from sending to the answer', async () => {
    const first = new ScriptedDriver('ipmi');
    const second = new ScriptedDriver('script');
    const { svc, clock, events } = setup([first, second]);
    first.behave = async () => {
      await delay(clock, 30);
      throw new UnreachableError('h', 'bmc-h', 'no answer');
    };
    second.behave = () => delay(clock, 12);
    svc.register('h', { drivers: ['ipmi', 'script'], target: target('h') });
    const done = settle(svc.command('h', 'off', { by: 'ha' }));
    await clock.advance(100);
    expect((await done).e).to.equal(undefined);
    const actions = events.filter((e) => e.type === 'power.action');
    expect(actions).to.have.length(1);
    expect(actions[0]).to.include({ action: 'off', ok: true, driver: 'script', durationMs: 42 });
    second.behave = async () => {
      throw new DriverError('script', 'h', 'exit 1');
    };
    const failed = settle(svc.command('h', 'on', { by: 'ha' }));
    await clock.advance(100);
    expect((await failed).e).to.be.instanceOf(DriverError);
    expect(events.filter((e) => e.type === 'power.action').at(-1)).to.include({
      action: 'on',
      ok: false,
      driver: 'script',
      durationMs: 30,
    });
  });

  it('uses defaultPowerDrivers when the binding names none, and rejects unknown names', async () => {
    const a = new ScriptedDriver('a');
    const b = new ScriptedDriver('b');
    const { svc } = setup([a, b], { defaultPowerDrivers: ['b'] });
    svc.register('h', { target: target('h') });
    await svc.status('h', { by: 'operator' });
    expect(b.calls).to.deep.equal(['status']);
    expect(() => svc.register('x', { drivers: ['nope'], target: target('x') })).to.throw(ConfigError, /nope/);
    expect(() => svc.state('missing')).to.throw(NotFoundError);
  });

  it('redacts the password from errors, events and logs even if a driver leaks it', async () => {
    const d = new ScriptedDriver('leaky');
    d.behave = async () => {
      throw new DriverError('leaky', 'h', `ipmitool -P ${PW} failed`);
    };
    const lines: string[] = [];
    const log = (m: string, f?: object) => lines.push(m + JSON.stringify(f ?? {}));
    const clock = new TestClock();
    const svc = new PowerManagementService({
      clock,
      drivers: [d],
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const events: HaEvent[] = [];
    svc.events$.subscribe((e) => events.push(e));
    svc.register('h', { target: target('h') });
    const { e } = await settle(svc.command('h', 'off', { by: 'operator' }));
    expect((e as Error).message)
      .to.include('[redacted]')
      .and.not.include(PW);
    expect(String((e as Error).stack)).to.not.include(PW);
    expect(JSON.stringify(events)).to.not.include(PW);
    expect(lines.join('\n')).to.include('failed').and.not.include(PW);
  });

  it('reports an auth failure at most once per host per day', async () => {
    const d = new FakePowerDriver({ password: 'other' });
    const { svc, clock, events } = setup([d] as unknown as ScriptedDriver[]);
    svc.register('h', { target: target('h') });
    const authEvents = () => events.filter((e) => e.type === 'power.auth-failed');
    await settle(svc.status('h', { by: 'sync' }));
    await settle(svc.status('h', { by: 'sync' }));
    expect(authEvents()).to.have.length(1);
    expect(events.filter((e) => e.type === 'alert')).to.have.length(1);
    await clock.advance(23 * 3_600_000);
    await settle(svc.validate('h', { by: 'operator' }));
    expect(authEvents()).to.have.length(1);
    await clock.advance(3_600_000);
    await settle(svc.status('h', { by: 'sync' }));
    expect(authEvents()).to.have.length(2);
  });

  it('the caller can cancel an operation, including one waiting in the queue', async () => {
    const d = new ScriptedDriver('a');
    d.behave = async (_op, _t, o) =>
      new Promise((_r, rej) => o.signal.addEventListener('abort', () => rej(o.signal.reason)));
    const { svc } = setup([d]);
    svc.register('h', { target: target('h') });
    const ctl = new AbortController();
    const running = settle(svc.command('h', 'off', { by: 'operator', signal: ctl.signal }));
    const queued = settle(svc.command('h', 'on', { by: 'operator', signal: ctl.signal }));
    await flushMicrotasks();
    ctl.abort(new Error('operator gave up'));
    expect(((await running).e as Error).message).to.equal('operator gave up');
    expect(((await queued).e as Error).message).to.equal('operator gave up');
    expect(d.calls).to.deep.equal(['off']);
    expect(svc.state('h')).to.equal('UNKNOWN');
  });
  it('a command whose sender may no longer act when it leaves the queue is refused there, never sent', async () => {
    const d = new ScriptedDriver('a');
    const { svc, clock } = setup([d]);
    d.behave = (op) => (op === 'status' ? delay(clock, 500) : Promise.resolve());
    svc.register('h', { target: target('h') });
    let leaseGone: string | undefined;
    const read = settle(svc.status('h', { by: 'sync' })); // holds the BMC for 500 ms
    const queued = settle(svc.command('h', 'off', { by: 'ha', admit: () => leaseGone }));
    await clock.advance(100);
    leaseGone = 'the lease reached its deadline'; // while the command waited in the queue
    await clock.advance(1_000);
    expect((await read).e).to.equal(undefined);
    const { e } = await queued;
    expect(e).to.be.instanceOf(AbortedError);
    expect((e as Error).message).to.contain('the lease reached its deadline');
    expect(d.calls).to.deep.equal(['status']);
    const later = await settle(svc.command('h', 'off', { by: 'ha', admit: () => undefined }));
    expect(later.e).to.equal(undefined);
    expect(d.calls).to.deep.equal(['status', 'off']);
  });

  it('an operation asked with an already aborted signal fails with its reason, calls no driver and leaves no unhandled rejection', async () => {
    const leaked: unknown[] = [];
    const onUnhandled = (reason: unknown) => leaked.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const d = new ScriptedDriver('a');
      const { svc } = setup([d]);
      svc.register('h', { target: target('h') });
      const ctl = new AbortController();
      const reason = new Error('operator gave up');
      ctl.abort(reason);
      expect((await settle(svc.command('h', 'off', { by: 'operator', signal: ctl.signal }))).e).to.equal(reason);
      await flushMicrotasks();
      await flushMicrotasks();
      expect(d.calls).to.deep.equal([]);
      expect(leaked).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
  it('a driver that ignores its signal holds the BMC (bounded) before the next operation or driver', async () => {
    const stuck = new ScriptedDriver('stuck');
    const next = new ScriptedDriver('next');
    let release: () => void = () => {};
    stuck.behave = () =>
      new Promise<void>((r) => {
        release = r;
      });
    const { svc, clock } = setup([stuck, next], { powerOpTimeout: 1000 });
    svc.register('h', { drivers: ['stuck', 'next'], target: target('h') });
    const first = settle(svc.status('h', { by: 'ha' }));
    await clock.advance(1000); // stuck times out, but has not let go of the BMC
    expect(next.calls).to.deep.equal([]);
    release();
    await clock.advance(0);
    expect((await first).v).to.equal('ON');
    expect(next.calls).to.deep.equal(['status']);
    stuck.behave = () => forever();
    const second = settle(svc.command('h', 'off', { by: 'ha' }));
    await clock.advance(1000); // times out; never settles: the grace (min(timeout, 5 s)) releases the BMC
    expect(next.calls).to.deep.equal(['status']);
    await clock.advance(1000);
    expect((await second).e).to.equal(undefined);
    expect(next.calls).to.deep.equal(['status', 'off']);
  });
});
