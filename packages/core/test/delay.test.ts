import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { AbortedError, raceAbort } from '@hafence/core';

/** Two macrotask turns: Node reports a rejection without a handler after the microtasks drain. */
async function rejectionTrackingDone(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('raceAbort', () => {
  const leaked: unknown[] = [];
  const onUnhandled = (reason: unknown) => leaked.push(reason);
  beforeEach(() => {
    leaked.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  /** A promise the test rejects when it wants to. */
  function later<T>(): { promise: Promise<T>; reject: (err: Error) => void; resolve: (v: T) => void } {
    let reject!: (err: Error) => void;
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, reject, resolve };
  }

  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

  it('an already aborted signal: rejects with its reason, and a later rejection of the inner promise is handled', async () => {
    const ctl = new AbortController();
    const reason = new AbortedError('job cancelled');
    ctl.abort(reason);
    const inner = later<string>();
    expect(await outcome(raceAbort(inner.promise, ctl.signal))).to.deep.equal({ error: reason });
    inner.reject(new Error('the request failed after the caller gave up'));
    await rejectionTrackingDone();
    expect(leaked).to.deep.equal([]);
  });

  it('an already aborted signal and an inner promise that has already rejected: nothing unhandled', async () => {
    const ctl = new AbortController();
    const reason = new AbortedError('job cancelled');
    ctl.abort(reason);
    const inner = Promise.reject(new Error('refused at once'));
    expect(await outcome(raceAbort(inner, ctl.signal))).to.deep.equal({ error: reason });
    await rejectionTrackingDone();
    expect(leaked).to.deep.equal([]);
  });

  it('an abort while waiting: rejects with the reason, the later inner rejection is handled, no listener stays', async () => {
    const ctl = new AbortController();
    const inner = later<string>();
    const raced = outcome(raceAbort(inner.promise, ctl.signal));
    const reason = new AbortedError('timed out');
    ctl.abort(reason);
    expect(await raced).to.deep.equal({ error: reason });
    inner.reject(new Error('late'));
    await rejectionTrackingDone();
    expect(leaked).to.deep.equal([]);
  });

  it('the inner promise wins: its value or its error, and the abort listener is removed', async () => {
    const ctl = new AbortController();
    const ok = later<string>();
    const raced = raceAbort(ok.promise, ctl.signal);
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(1);
    ok.resolve('answer');
    expect(await raced).to.equal('answer');
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(0);
    const failed = later<string>();
    const boom = new Error('boom');
    const racedFail = outcome(raceAbort(failed.promise, ctl.signal));
    failed.reject(boom);
    expect(await racedFail).to.deep.equal({ error: boom });
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(0);
  });
});
