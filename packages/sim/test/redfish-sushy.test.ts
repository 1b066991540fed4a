import { expect } from 'chai';
import { RedfishSim, REDFISH_VARIANTS, redfishVariantProfile } from '@hafence/sim';
import { eventually } from './redfish-client.js';
import { sushy, ToolFiles, type ToolRun } from './redfish-tools.js';

const USER = 'sushy';
const PASSWORD = 'sy-pass-W2e';
const DELAYS = { forceOffMs: 100, onMs: 100, gracefulShutdownMs: 300 };

function json(r: ToolRun): Record<string, unknown> {
  expect(r.code, r.out).to.equal(0);
  expect(r.argv.join(' ')).not.to.include(PASSWORD);
  return JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
}

// OpenStack's sushy (Ironic's Redfish library) drives the simulator: session login and logout, the system found
// through the collection, PowerState, the allowed ResetTypes as sushy reads them, resets.
for (const variant of REDFISH_VARIANTS) {
  const profile = redfishVariantProfile(variant);
  describe(`sushy vs RedfishSim (${variant})`, function () {
    this.timeout(60_000);
    let sim: RedfishSim;
    let files: ToolFiles;
    const run = (...args: string[]) => sushy(sim, files, { username: USER, password: PASSWORD }, ...args);
    beforeEach(async () => {
      sim = new RedfishSim({ username: USER, password: PASSWORD, variant, powerDelays: DELAYS });
      await sim.start();
      files = new ToolFiles();
    });
    afterEach(async () => {
      files.remove();
      await sim.close();
    });

    it('reads the system and its power state through a session it logs out', async () => {
      expect(json(await run('status'))).to.deep.equal({ id: profile.systemId, power: 'On' });
      sim.setPowerState('Off');
      expect(json(await run('status'))).to.deep.equal({ id: profile.systemId, power: 'Off' });
      expect(sim.stats).to.deep.include({ sessionsCreated: 2, sessionsOpen: 0 });
    });

    it('reads the allowed ResetTypes (sushy ignores @Redfish.ActionInfo and then assumes all)', async () => {
      const allowed = json(await run('allowed')).allowed as string[];
      if (profile.resetTypesIn === 'allowable-values') expect(allowed).to.deep.equal([...profile.resetTypes].sort());
      else expect(allowed).to.include.members([...profile.resetTypes]);
    });

    it('off, on and restart land on the simulated power', async () => {
      json(await run('reset', 'ForceOff'));
      expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
      json(await run('reset', 'On'));
      expect(await eventually(() => sim.powerState() === 'On')).to.equal(true);
      json(await run('reset', 'ForceRestart'));
      expect(await eventually(() => sim.resets.length === 3 && sim.powerState() === 'On')).to.equal(true);
      expect(sim.resets.map((r) => r.resetType)).to.deep.equal(['ForceOff', 'On', 'ForceRestart']);
    });

    it('Basic auth works; a wrong password is refused at login (401)', async () => {
      const basic = await sushy(sim, files, { username: USER, password: PASSWORD, basic: true }, 'status');
      expect(json(basic)).to.deep.include({ power: 'On' });
      expect(sim.stats.sessionsCreated).to.equal(0);
      const wrong = await sushy(sim, files, { username: USER, password: 'not-it' }, 'reset', 'ForceOff');
      expect(wrong.code).not.to.equal(0);
      expect(wrong.out).to.match(/AccessError: HTTP POST \S+\/SessionService\/Sessions returned code 401/);
      expect(sim.resets).to.have.length(0);
    });
  });
}
