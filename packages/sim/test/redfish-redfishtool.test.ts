import { expect } from 'chai';
import { RedfishSim, REDFISH_VARIANTS, redfishVariantProfile } from '@hafence/sim';
import { eventually } from './redfish-client.js';
import { redfishtool, ToolFiles, type ToolRun } from './redfish-tools.js';

const USER = 'rft';
const PASSWORD = 'rt-pass-K3w';
const DELAYS = { forceOffMs: 100, onMs: 100, gracefulShutdownMs: 300 };

function json(r: ToolRun): Record<string, unknown> {
  expect(r.code, r.out).to.equal(0);
  return JSON.parse(r.out) as Record<string, unknown>;
}

// DMTF's redfishtool (Debian package redfishtool) drives the simulator: Basic and Session auth, collection walks,
// every ResetType the variant allows (it checks @Redfish.AllowableValues itself and follows task monitors), and
// PATCH with the ETag it read (If-Match).
for (const variant of REDFISH_VARIANTS) {
  const profile = redfishVariantProfile(variant);
  describe(`redfishtool vs RedfishSim (${variant})`, function () {
    this.timeout(90_000);
    let sim: RedfishSim;
    let files: ToolFiles;
    let config: string;
    const tool = (...args: string[]) => redfishtool(sim, config, args);
    beforeEach(async () => {
      sim = new RedfishSim({ username: USER, password: PASSWORD, variant, powerDelays: DELAYS });
      await sim.start();
      files = new ToolFiles();
      config = files.write('rft.json', JSON.stringify({ user: USER, password: PASSWORD }));
    });
    afterEach(async () => {
      files.remove();
      await sim.close();
    });

    it('reads the service root, the system, the chassis and the manager', async () => {
      expect(json(await tool('root'))).to.include({ RedfishVersion: profile.redfishVersion });
      expect(json(await tool('Systems', '-1', '-P', 'PowerState'))).to.deep.equal({ PowerState: 'On' });
      expect(json(await tool('Systems', '-I', profile.systemId, '-P', 'Id'))).to.deep.equal({ Id: profile.systemId });
      expect(json(await tool('Chassis', '-1', '-P', 'PowerState'))).to.deep.equal({ PowerState: 'On' });
      expect(json(await tool('Managers', '-1', '-P', 'ManagerType'))).to.deep.equal({ ManagerType: 'BMC' });
      sim.setPowerState('Off');
      expect(json(await tool('Systems', '-1', '-P', 'PowerState'))).to.deep.equal({ PowerState: 'Off' });
    });

    it('resets with every allowed ResetType (following task monitors where the variant uses them)', async () => {
      for (const type of profile.resetTypes) {
        const r = await tool('Systems', '-1', 'reset', type);
        expect([type, r.code], r.out).to.deep.equal([type, 0]);
        if (profile.resetReply === 'task') expect(r.out).not.to.match(/still Running/);
      }
      expect(sim.resets.map((x) => x.resetType)).to.deep.equal(profile.resetTypes);
    });

    it('off, on and reboot land on the simulated power', async () => {
      expect((await tool('Systems', '-1', 'reset', 'ForceOff')).code).to.equal(0);
      expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
      expect((await tool('Systems', '-1', 'reset', 'On')).code).to.equal(0);
      expect(await eventually(() => sim.powerState() === 'On')).to.equal(true);
      expect((await tool('Systems', '-1', 'reset', 'ForceRestart')).code).to.equal(0);
      expect(await eventually(() => sim.resets.length === 3 && sim.powerState() === 'On')).to.equal(true);
    });

    it('session auth: logs in, resets, logs out', async () => {
      const r = await tool('-A', 'Session', 'Systems', '-1', 'reset', 'ForceOff');
      expect(r.code, r.out).to.equal(0);
      expect(sim.stats).to.deep.include({ sessionsCreated: 1, sessionsOpen: 0 });
      expect(sim.resets.map((x) => x.resetType)).to.deep.equal(['ForceOff']);
    });

    // generic allows every ResetType: its 400 path is in the protocol test.
    const missing = ['PowerCycle', 'ForceOn', 'PushPowerButton'].find((t) => !profile.resetTypes.includes(t));
    if (missing) {
      it(`${missing}, which the variant does not allow, is refused and nothing happens`, async () => {
        const r = await tool('Systems', '-1', 'reset', missing);
        expect(r.code).not.to.equal(0);
        expect(sim.resets).to.have.length(0);
      });
    }

    it('PATCHes the asset tag with the ETag it read (If-Match)', async () => {
      const r = await tool('Systems', '-1', 'setAssetTag', `tag-${variant}`);
      expect(json(r)).to.deep.equal({ AssetTag: `tag-${variant}` });
      expect(json(await tool('Systems', '-1', '-P', 'AssetTag'))).to.deep.equal({ AssetTag: `tag-${variant}` });
    });

    it('a wrong password is refused', async () => {
      config = files.write('bad.json', JSON.stringify({ user: USER, password: 'wrong-one' }));
      const r = await tool('Systems', '-1', 'reset', 'ForceOff');
      expect(r.code).not.to.equal(0);
      expect(sim.resets).to.have.length(0);
      expect(r.argv.join(' ')).not.to.include('wrong-one');
    });
  });
}
