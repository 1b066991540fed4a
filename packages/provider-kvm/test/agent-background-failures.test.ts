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
      hostId: 'h1',
      mount: '/mnt/pool',
      token: new Secret(TEST_TOKEN),
      watchdog,
      clock,
      fs,
      logger,
      heartbeatIntervalMs: 10 * S,
      selfFenceAfterMs: 60 * S,
      armed: false,
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
      hostId: 'h1',
      mount: '/mnt/pool',
      token: new Secret(TEST_TOKEN),
      watchdog,
      clock,
      fs,
      logger,
      heartbeatIntervalMs: 10 * S,
      selfFenceAfterMs: 60 * S,
      armed: true,
      stopVms: () => {
        throw Object.assign(new Error('virsh not found'), { code: 'ENOENT' });
      },
      peerProbe: async () => [],
      readFs: {
        readdir: async () => [],
        readFile: async () => {
          throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        },
      },
    });
    await agent.start();
    fs.failWith = 'EROFS';
    await clock.advance(75 * S);
    expect(agent.status().selfFenced).to.equal(true);
    const fedBefore = watchdog.feeds.length;
    await clock.advance(60 * S);
    expect(watchdog.feeds.slice(fedBefore), 'not fed after the self-fence').to.deep.equal([]);
    expect(watchdog.expiredAt, 'the watchdog resets the host').to.not.equal(undefined);
    expect(leaked).to.deep.equal([]);
  });
});

describe('host agent: stop() and a heartbeat write in progress', () => {
  /** A file system whose writes land only when the test says so. */
  class GatedFs extends MemFs {
    release: (() => void) | undefined;
    landed = 0;

    override async writeFile(path: string, data: string): Promise<void> {
      await new Promise<void>((resolve) => {
        this.release = resolve;
      });
      await super.writeFile(path, data);
      this.landed++;
    }
  }

  async function started(fs: GatedFs, clock: TestClock): Promise<HostAgent> {
    const agent = new HostAgent({
      hostId: 'h1',
      mount: '/mnt',
      token: new Secret(TEST_TOKEN),
      watchdog: new SimulatedWatchdog(clock),
      clock,
      fs,
      heartbeatIntervalMs: 10 * S,
      selfFenceAfterMs: 60 * S,
    });
    await agent.start();
    await clock.advance(1); // the first beat has begun its write
    expect(fs.release, 'a write is in progress').to.not.equal(undefined);
    return agent;
  }

  it('waits for the write in progress to land before it resolves', async () => {
    const clock = new TestClock();
    const fs = new GatedFs();
    const agent = await started(fs, clock);
    let stopped = false;
    const stopping = agent.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(stopped, 'not before the write landed').to.equal(false);
    fs.release!();
    await stopping;
    expect(fs.landed).to.equal(1);
  });

  it('gives up on a hung write after 2 s (a hung mount must not hang the stop)', async () => {
    const clock = new TestClock();
    const agent = await started(new GatedFs(), clock);
    let stopped = false;
    const stopping = agent.stop().then(() => {
      stopped = true;
    });
    await clock.advance(1_999);
    expect(stopped).to.equal(false);
    await clock.advance(1);
    await stopping;
    expect(stopped).to.equal(true);
  });
});
