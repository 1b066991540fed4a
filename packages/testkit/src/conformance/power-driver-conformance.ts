import { expect } from 'chai';
import {
  HaError,
  TimeoutError,
  UnreachableError,
  AuthError,
  type ChassisPower,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';

/** What a driver under test provides to the conformance suite. */
export interface PowerDriverFixture {
  readonly driver: PowerDriver;
  /** A controller that works, with the right credentials. */
  readonly target: PowerTarget;
  /** Reads the chassis' true power state behind the driver's back. */
  readPower(): Promise<ChassisPower>;
  /** Changes the chassis' power behind the driver's back. */
  setPower(state: ChassisPower): Promise<void>;
  /** The same controller with a wrong password (skipped when absent). */
  readonly wrongPasswordTarget?: PowerTarget;
  /** An address where nothing answers (skipped when absent). */
  readonly unreachableTarget?: PowerTarget;
  /** Commands the controller does not implement, so the suite skips them. */
  readonly unsupported?: ReadonlyArray<'soft' | 'reset' | 'cycle' | 'identify'>;
  /** Releases everything the fixture started. */
  close(): Promise<void>;
}

/** Options of {@link describePowerDriverConformance}. */
export interface ConformanceOptions {
  /** Timeout of one driver call (default 5000 ms). */
  readonly timeoutMs?: number;
  /** How long a chassis may take to show a command's effect (default 3000 ms). */
  readonly settleMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(read: () => Promise<ChassisPower>, want: ChassisPower, ms: number): Promise<ChassisPower> {
  const end = Date.now() + ms;
  let last = await read();
  while (last !== want && Date.now() < end) {
    await sleep(50);
    last = await read();
  }
  return last;
}

/**
 * A mocha suite every {@link PowerDriver} can run against itself: status, each chassis
 * command and its visible effect, identify, validate, wrong credentials, an
 * unreachable controller, and cancellation.
 *
 * @example
 * describePowerDriverConformance('my-driver', async () => ({ driver, target, readPower, setPower, close }));
 */
export function describePowerDriverConformance(
  name: string,
  makeFixture: () => Promise<PowerDriverFixture>,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 5000;
  const settleMs = options.settleMs ?? 3000;
  describe(`PowerDriver conformance: ${name}`, function () {
    this.timeout(timeoutMs * 4 + settleMs * 2);
    let fx: PowerDriverFixture;
    const call = () => ({ signal: AbortSignal.timeout(timeoutMs), timeoutMs });
    const skipUnless = (ctx: Mocha.Context, op: 'soft' | 'reset' | 'cycle' | 'identify') => {
      if (fx.unsupported?.includes(op)) ctx.skip();
    };

    before(async () => {
      fx = await makeFixture();
    });
    after(async () => {
      await fx?.close();
    });

    it('has a name', () => {
      expect(fx.driver.name).to.be.a('string').and.not.equal('');
    });

    it('status reports the chassis state, both ON and OFF', async () => {
      await fx.setPower('ON');
      expect(await fx.driver.status(fx.target, call())).to.equal('ON');
      await fx.setPower('OFF');
      expect(await fx.driver.status(fx.target, call())).to.equal('OFF');
    });

    it('on powers the chassis on', async () => {
      await fx.setPower('OFF');
      await fx.driver.control(fx.target, 'on', call());
      expect(await eventually(() => fx.readPower(), 'ON', settleMs)).to.equal('ON');
    });

    it('off powers the chassis off, and status reads it back', async () => {
      await fx.setPower('ON');
      await fx.driver.control(fx.target, 'off', call());
      expect(await eventually(() => fx.readPower(), 'OFF', settleMs)).to.equal('OFF');
      expect(await fx.driver.status(fx.target, call())).to.equal('OFF');
    });

    it('soft shutdown turns a running chassis off', async function () {
      skipUnless(this, 'soft');
      await fx.setPower('ON');
      await fx.driver.control(fx.target, 'soft', call());
      expect(await eventually(() => fx.readPower(), 'OFF', settleMs)).to.equal('OFF');
    });

    it('cycle is acknowledged and the chassis ends ON', async function () {
      skipUnless(this, 'cycle');
      await fx.setPower('ON');
      await fx.driver.control(fx.target, 'cycle', call());
      expect(await eventually(() => fx.readPower(), 'ON', settleMs)).to.equal('ON');
    });

    it('reset is acknowledged on a running chassis', async function () {
      skipUnless(this, 'reset');
      await fx.setPower('ON');
      await fx.driver.control(fx.target, 'reset', call());
      expect(await eventually(() => fx.readPower(), 'ON', settleMs)).to.equal('ON');
    });

    it('identify is acknowledged', async function () {
      skipUnless(this, 'identify');
      await fx.driver.identify(fx.target, 5, call());
    });

    it('validate proves the credentials without changing power', async () => {
      await fx.setPower('OFF');
      await fx.driver.validate(fx.target, call());
      expect(await fx.readPower()).to.equal('OFF');
    });

    it('a wrong password is an AuthError that does not contain the password', async function () {
      if (!fx.wrongPasswordTarget) this.skip();
      const err = await fx.driver.status(fx.wrongPasswordTarget!, call()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(AuthError);
      const secret = fx.wrongPasswordTarget!.password?.reveal() ?? '';
      if (secret) expect(String((err as Error).message) + String((err as Error).stack)).to.not.include(secret);
    });

    it('an unreachable controller fails with TimeoutError or UnreachableError within the timeout', async function () {
      if (!fx.unreachableTarget) this.skip();
      const limit = 1500;
      const started = Date.now();
      const err = await fx.driver
        .status(fx.unreachableTarget!, { signal: AbortSignal.timeout(limit), timeoutMs: limit })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const took = Date.now() - started;
      expect(
        err instanceof TimeoutError || err instanceof UnreachableError || (err as Error)?.name === 'TimeoutError',
        `got ${String(err)}`,
      ).to.equal(true);
      expect(took).to.be.lessThan(limit + 1000);
    });

    it('an already aborted signal rejects without sending anything', async () => {
      const ctl = new AbortController();
      ctl.abort(new Error('cancelled by test'));
      const err = await fx.driver.status(fx.target, { signal: ctl.signal, timeoutMs }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(Error);
    });

    it('every failure is a typed HaError with a stable code', async function () {
      if (!fx.wrongPasswordTarget) this.skip();
      const err = await fx.driver.validate(fx.wrongPasswordTarget!, call()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(HaError);
      expect((err as HaError).code).to.match(/^HAF\d{4}$/);
    });
  });
}
