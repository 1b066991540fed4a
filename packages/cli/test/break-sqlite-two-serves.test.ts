import { expect } from 'chai';
import { type HafenceProcess, onPowerCycle, waitFor } from './e2e-kvm-processes.js';
import { ServeRig } from './serve-rig.js';

const PASSWORD = 'Two-Serves-Pw-5519';
const TOKEN = 'two-serves-token-8c1e4b7a2d';
const HOSTS = ['h1', 'h2', 'h3'] as const;
const STOPS = ['off', 'soft', 'cycle', 'reset'];

type Event = { t: number; type: string; [k: string]: unknown };

/**
 * Two `hafence serve` processes started on one cluster file, so on one SQLite state file (an operator's slip, a
 * service manager starting a second copy). README (store-typeorm): "SQLite is for one management server". Whatever
 * happens, the two must not both act: h2's BMC sees one stop in its episode and its workloads are released once —
 * or the second serve refuses to start.
 */
describe('break: two hafence serve on one SQLite state file (real processes)', function () {
  this.timeout(120_000);
  const rig = new ServeRig({
    name: 'two-serves',
    password: PASSWORD,
    token: TOKEN,
    hosts: HOSTS,
  });
  const { bmcs, agents, serves } = rig;
  const startAgent = (host: string): HafenceProcess => rig.startAgent(host);
  const startServe = (): HafenceProcess => rig.startServe();
  let watch: NodeJS.Timeout | undefined;

  before(async () => {
    await rig.start({ serve: false });
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    clearInterval(watch);
    await rig.close();
  });

  it('the second serve refuses to start, or only one of them acts on a dead host (one stop, one release)', async () => {
    const a = startServe();
    await waitFor('h1..h3 AVAILABLE on serve #1', 45_000, () => {
      if (!a.alive) throw new Error(`serve #1 exited ${a.exitCode}: ${a.stderr}`);
      const list = a.json<Event>();
      return HOSTS.every(
        (h) => list.filter((e) => e.type === 'resource.transition' && e.resource === h).at(-1)?.to === 'AVAILABLE',
      );
    });
    const b = startServe();
    // Give the second one time to start (or to refuse).
    await new Promise((r) => setTimeout(r, 8_000));
    const bmc2 = bmcs.get('h2')!;
    agents.get('h2')!.kill('SIGKILL');
    watch = onPowerCycle(bmc2.chassis, () => startAgent('h2'));
    await waitFor('a release of h2', 60_000, () =>
      serves.some((s) => s.json<Event>().some((e) => e.type === 'workloads.released' && e.resource === 'h2')),
    );
    // Let both finish whatever they started.
    await new Promise((r) => setTimeout(r, 15_000));
    const stops = bmc2.chassis.log.filter((c) => STOPS.includes(c));
    const released = serves.flatMap((s) =>
      s.json<Event>().filter((e) => e.type === 'workloads.released' && e.resource === 'h2'),
    );
    process.stderr.write(
      `      [serve #2 alive ${b.alive} exit ${String(b.exitCode)}; h2 chassis log ${JSON.stringify(bmc2.chassis.log)}]\n`,
    );
    for (const s of serves) {
      const ev = s.json<Event>();
      process.stderr.write(
        `      [${s.name}: ${ev.filter((e) => e.type === 'resource.transition').length} transitions, ` +
          `${ev.filter((e) => e.type === 'workloads.released').length} releases; stderr ${s.stderr.slice(0, 300)}]\n`,
      );
    }
    expect(stops, "h2's chassis: one stop in the episode").to.have.length(1);
    expect(released, 'released once across both processes').to.have.length(1);
  });
});
