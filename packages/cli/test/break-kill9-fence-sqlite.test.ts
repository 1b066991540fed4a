import { expect } from 'chai';
import { type HafenceProcess, waitFor } from './e2e-kvm-processes.js';
import { ServeRig } from './serve-rig.js';

const PASSWORD = 'Kill9-Fence-Pw-7310';
const TOKEN = 'kill9-fence-token-1e5c9a3b7d';
const HOSTS = ['h1', 'h2', 'h3'] as const;

type Event = { t: number; type: string; [k: string]: unknown };

/**
 * A fence cut by `kill -9`, with real processes on SQLite: with `maxRecoveryAttempts: 0` a dead h2 goes RECOVERING →
 * FENCING at once; its BMC answers slowly (300 ms), and serve is killed the moment the chassis carries out the off
 * (before its answer reaches serve) or a fixed time after the FENCING line. The restarted serve must settle a stop
 * intent by a status read (docs/behaviour.md#persistence) and finish the fence: h2 FENCED, released once (one event id,
 * printed by one serve or, relayed, by both), one off.
 */
/** When serve #1 is killed: the moment h2's chassis carries out the off, or `ms` after the FENCING line. */
const MOMENTS: ReadonlyArray<'off landed' | number> = ['off landed', 0, 200, 400, 700];

for (const moment of MOMENTS) {
  describe(`break: kill -9 of hafence serve mid-fence (${moment === 'off landed' ? moment : `${moment} ms after FENCING`}), restart on the same SQLite state (real processes)`, function () {
    this.timeout(150_000);
    const rig = new ServeRig({
      name: 'kill9-fence',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      ha: { defaults: ['maxRecoveryAttempts: 0'] },
    });
    const { bmcs, agents, serves } = rig;
    const startServe = (): HafenceProcess => rig.startServe();
    const serve = () => serves.at(-1)!;
    const stateOf = (list: Event[]) =>
      list.filter((e) => e.type === 'resource.transition' && e.resource === 'h2').at(-1)?.to;

    before(async () => {
      await rig.start({ serve: true });
      await rig.allAvailable();
    });

    afterEach(function () {
      rig.dumpIfFailed(this.currentTest);
    });

    after(async () => {
      await rig.close();
    });

    it('killed mid-fence: the restarted serve finishes the fence (FENCED, one release, one off)', async () => {
      const bmc2 = bmcs.get('h2')!;
      const first = serve();
      let atKill: string[] | undefined;
      // The BMC answers 300 ms late: killed the moment h2's chassis carries out the off (its answer still on its way),
      // or a fixed time after the FENCING line (the stop intent committed or not, the off sent or not).
      const kill = (): void => {
        if (atKill !== undefined) return;
        atKill = [...bmc2.chassis.log];
        first.kill('SIGKILL');
      };
      const watch = setInterval(() => {
        if (moment === 'off landed' && bmc2.chassis.log.includes('off')) kill();
      }, 5);
      first.onLine((line) => {
        if (typeof moment !== 'number' || !line.includes('"to":"FENCING"') || !line.includes('"resource":"h2"')) return;
        setTimeout(kill, moment);
      });
      bmc2.faults.slowMs = 300;
      agents.get('h2')!.kill('SIGKILL');
      expect(await first.waitExit(60_000)).to.equal(null);
      clearInterval(watch);
      expect(
        first
          .json<Event>()
          .filter((e) => e.type === 'resource.transition' && e.resource === 'h2')
          .at(-1)?.to,
        'killed during FENCING',
      ).to.equal('FENCING');
      expect(atKill, 'killed during FENCING').to.not.equal(undefined);
      expect(
        atKill!.filter((c) => c === 'off').length,
        'serve #1 itself: at most one off carried out by the chassis (a retransmit must not repeat it)',
      ).to.be.at.most(1);
      bmc2.faults.slowMs = 0;
      const second = startServe();
      let last: unknown;
      try {
        await waitFor('h2 FENCED after the restart', 60_000, () => {
          if (!second.alive) throw new Error(`serve #2 exited ${second.exitCode}: ${second.stderr}`);
          last = stateOf(second.json<Event>());
          return last === 'FENCED';
        });
      } finally {
        process.stderr.write(
          `      [chassis at kill ${JSON.stringify(atKill)}, now ${JSON.stringify(bmc2.chassis.log)}, ` +
            `power ${bmc2.chassis.power}; h2 last ${String(last)}]\n`,
        );
      }
      expect(bmc2.chassis.log.filter((c) => c === 'off')).to.have.length(1);
      expect(bmc2.chassis.power).to.equal('OFF');
      const released = serves.flatMap((s) =>
        s.json<Event>().filter((e) => e.type === 'workloads.released' && e.resource === 'h2'),
      );
      // At least once (docs/behaviour.md#persistence): a serve killed after printing the release but before recording
      // its delivery has it relayed by the next one, with the same id; a consumer drops the duplicate by it.
      expect(released, 'released (printed by a serve)').to.not.be.empty;
      expect(released.map((e) => typeof e.id)).to.deep.equal(released.map(() => 'number'));
      expect(new Set(released.map((e) => e.id)), 'one release, by id').to.have.property('size', 1);
      expect(new Set(released.map((e) => e.episode)), 'of one episode').to.have.property('size', 1);
    });
  });
}
