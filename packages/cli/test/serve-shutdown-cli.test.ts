import { expect } from 'chai';
import { ServeRig } from './serve-rig.js';
import { waitFor } from './e2e-kvm-processes.js';

const PASSWORD = 'Shutdown-Pw-5521';
const TOKEN = 'shutdown-token-77c1a9e0b4';
const HOSTS = ['h1', 'h2', 'h3'] as const;

/** The stderr log lines of level warn (40) or above (pino JSON lines). */
function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => {
    try {
      return (JSON.parse(l) as { level?: number }).level! >= 40;
    } catch {
      return false;
    }
  });
}

/**
 * Issue 13: SIGTERM while power sync reads are in flight (slow BMCs) stops `hafence serve` quietly — the reads it
 * cancels are not "power service closed" warnings.
 */
describe('hafence serve: SIGTERM with power reads in flight', function () {
  this.timeout(90_000);
  const rig = new ServeRig({ name: 'serve-shutdown', password: PASSWORD, token: TOKEN, hosts: HOSTS });

  before(() => rig.start({ serve: false }));
  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });
  after(() => rig.close());

  it('at cold start: cancels in-flight power reads without a warning and exits 0', async () => {
    for (const b of rig.bmcs.values()) b.faults.slowMs = 3_000;
    const serve = rig.startServe();
    await waitFor('engine started', 20_000, () => serve.stderr.includes('engine started'));
    await waitFor('power reads in flight', 10_000, () => [...rig.bmcs.values()].every((b) => b.stats.received > 0));
    const quiet = warnings(serve.stderr).length;
    serve.kill('SIGTERM');
    expect(await serve.waitExit(20_000)).to.equal(0);
    expect(warnings(serve.stderr).slice(quiet)).to.deep.equal([]);
  });

  it('cancels in-flight sync reads without a warning and exits 0', async () => {
    for (const b of rig.bmcs.values()) b.faults.slowMs = 0;
    rig.startServe();
    await rig.allAvailable();
    const serve = rig.serve;
    // Every BMC now answers after 3 s: with a sync read a second per host, reads are always in flight.
    for (const b of rig.bmcs.values()) b.faults.slowMs = 3_000;
    const received = () => [...rig.bmcs.values()].reduce((n, b) => n + b.stats.received, 0);
    const before = received();
    await waitFor('power reads in flight', 10_000, () => received() >= before + HOSTS.length);
    const quiet = warnings(serve.stderr).length;
    serve.kill('SIGTERM');
    expect(await serve.waitExit(20_000)).to.equal(0);
    const late = warnings(serve.stderr).slice(quiet);
    expect(late.filter((l) => l.includes('power service closed'))).to.deep.equal([]);
    expect(late).to.deep.equal([]);
  });
});
