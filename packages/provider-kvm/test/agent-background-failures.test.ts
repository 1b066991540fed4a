import { expect } from 'chai';
import { Secret, type LogFields, type Logger } from '@hafence/core';
import { HostAgent, SimulatedWatchdog } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { MemFs, TEST_TOKEN } from './helpers/mem-fs.js';

const S = 1_000;

/** A watchdog device that cannot be opened while another process holds /dev/watchdog. */
class BusyWatchdog extends SimulatedWatchdog {
  busy = true;

  override async open(): Promise<void> {
    if (this.busy) throw Object.assign(new Error('EBUSY: resource busy, open /dev/watchdog'), { code: 'EBUSY' });
    await super.open();
  }
}

/**
 * Issue 8 item 5: what a heartbeat beat starts in the background (HA flag, isolation
 * evaluation, self-fence) may fail, but never as an unhandled rejection, and a failure
 * must not stop the agent's loop or skip a self-fence.
 */
describe('host agent: background failures are handled, never unhandled rejections', () => {
  let agent: HostAgent | undefined;
  const leaked: unknown[] = [];
  const onUnhandled = (reason: unknown) => leaked.push(reason);
  const errors: LogFields[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_m, fields) => errors.push(fields ?? {}) };

  beforeEach(() => {
    leaked.length = 0;
    errors.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await agent?.stop();
    agent = undefined;
  });

  it('an HA flag whose watchdog cannot be opened is logged (EBUSY), the loop goes on, and the flag is applied once it can', async () => {
    const clock = new TestClock();
    const fs = new MemFs();
    const flags = new Map([['/mnt/pool/hafence/ha-h1', 'enabled']]);
    const watchdog = new BusyWatchdog(clock);
    agent = new HostAgent({
      hostId: 'h1', mount: '/mnt/pool', token: new Secret(TEST_TOKEN), watchdog, clock, fs, logger,
      heartbeatIntervalMs: 10 * S, selfFenceAfterMs: 60 * S, armed: false,
      readFs: { readdir: async () => [], readFile: async (path) => flags.get(path) ?? '' },
    });
    await agent.start();
    await clock.advance(0);
    const writesAfterFirstBeat = fs.writes;
    await clock.advance(30 * S);
    expect(leaked).to.deep.equal([]);
    expect(errors.map((e) => e.errno)).to.include('EBUSY');
    expect(agent.status().armed).to.equal(false);
    expect(fs.writes, 'the loop keeps writing heartbeats').to.be.greaterThan(writesAfterFirstBeat);
    watchdog.busy = false;
    await clock.advance(10 * S);
    expect(agent.status().armed, 'retried on a later beat').to.equal(true);
    expect(leaked).to.deep.equal([]);
  });

  it('a stopVms that throws synchronously still self-fences: the watchdog is starved, nothing unhandled', async () => {
    const clock = new TestClock();
    const fs = new MemFs();
    const watchdog = new SimulatedWatchdog(clock, 15 * S);
    agent = new HostAgent({
      hostId: 'h1', mount: '/mnt/pool', token: new Secret(TEST_TOKEN), watchdog, clock, fs, logger,
      heartbeatIntervalMs: 10 * S, selfFenceAfterMs: 60 * S, armed: true,
      stopVms: () => { throw Object.assign(new Error('virsh not found'), { code: 'ENOENT' }); },
      peerProbe: async () => [],
      readFs: { readdir: async () => [], readFile: async () => { throw Object.assign(new Error('missing'), { code: 'ENOENT' }); } },
    });
    await agent.start();
    fs.failWith = 'EROFS';
    await clock.advance(75 * S);
    expect(agent.status().selfFenced).to.equal(true);
    const fedUntil = watchdog.feeds[watchdog.feeds.length - 1];
    await clock.advance(60 * S);
    expect(watchdog.feeds.filter((t) => t > fedUntil), 'not fed after the self-fence').to.deep.equal([]);
    expect(watchdog.expiredAt, 'the watchdog resets the host').to.not.equal(undefined);
    expect(leaked).to.deep.equal([]);
  });
});
