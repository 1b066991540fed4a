import { expect } from 'chai';
import { RedfishSim, REDFISH_VARIANTS } from '@hafence/sim';
import { eventually } from './redfish-client.js';
import { fenceRedfish, ToolFiles, type ToolRun } from './redfish-tools.js';

const USER = 'fence';
const PASSWORD = 'fr-pass-Zq8';
const DELAYS = { forceOffMs: 150, onMs: 150, gracefulShutdownMs: 1500 };

function noSecret(r: ToolRun): void {
  expect(r.argv.join(' ')).not.to.include(PASSWORD);
  expect(r.out).not.to.include(PASSWORD);
}

// The real ClusterLabs agent (Debian fence-agents) drives the simulator: what it does to a BMC is what our
// driver's tests against the simulator are worth. Exit codes of fence agents: 0 ok / on, 2 off, 1 failure.
for (const variant of REDFISH_VARIANTS) {
  describe(`fence_redfish vs RedfishSim (${variant})`, function () {
    this.timeout(60_000);
    let sim: RedfishSim;
    const agent = (action: string, password = PASSWORD) => fenceRedfish(sim, action, { username: USER, password });
    beforeEach(async () => {
      sim = new RedfishSim({ username: USER, password: PASSWORD, variant, powerDelays: DELAYS });
      await sim.start();
    });
    afterEach(() => sim.close());

    it('status reads On (exit 0) and Off (exit 2)', async () => {
      const on = await agent('status');
      expect([on.code, on.out.trim()]).to.deep.equal([0, 'Status: ON']);
      sim.setPowerState('Off');
      const off = await agent('status');
      expect([off.code, off.out.trim()]).to.deep.equal([2, 'Status: OFF']);
      noSecret(on);
      expect(sim.resets).to.have.length(0);
    });

    it('off sends ForceOff and waits until the power is off; on sends On', async () => {
      const off = await agent('off');
      expect(off.code, off.out).to.equal(0);
      expect(sim.powerState()).to.equal('Off');
      const on = await agent('on');
      expect(on.code, on.out).to.equal(0);
      // fence_redfish takes any PowerState but Off for on, PoweringOn (generic) included: the power lands just after.
      expect(await eventually(() => sim.powerState() === 'On', 2000)).to.equal(true);
      expect(sim.resets.map((r) => r.resetType)).to.deep.equal(['ForceOff', 'On']);
      noSecret(off);
    });

    it('reboot is ForceOff, wait for off, On, wait for on', async () => {
      const r = await agent('reboot');
      expect(r.code, r.out).to.equal(0);
      expect(await eventually(() => sim.powerState() === 'On', 2000)).to.equal(true);
      expect(sim.resets.map((x) => x.resetType)).to.deep.equal(['ForceOff', 'On']);
    });

    it('diag sends Nmi; monitor reaches the BMC', async () => {
      const diag = await agent('diag');
      expect(diag.code, diag.out).to.equal(0);
      expect(sim.resets.map((x) => x.resetType)).to.deep.equal(['Nmi']);
      const monitor = await agent('monitor');
      expect(monitor.code, monitor.out).to.equal(0);
    });

    it('a wrong password fails (exit 1) and changes nothing', async () => {
      const r = await agent('off', 'not-the-password');
      expect(r.code).to.equal(1);
      expect(sim.powerState()).to.equal('On');
      expect(sim.resets).to.have.length(0);
    });
  });
}

describe('fence_redfish vs RedfishSim: certificate checks', function () {
  this.timeout(60_000);
  let sim: RedfishSim;
  let files: ToolFiles;
  beforeEach(async () => {
    sim = new RedfishSim({ username: USER, password: PASSWORD, variant: 'dell' });
    await sim.start();
    files = new ToolFiles();
  });
  afterEach(async () => {
    files.remove();
    await sim.close();
  });

  it('verifies the self-signed certificate: refused by default, accepted with it as CA bundle', async () => {
    const refused = await fenceRedfish(sim, 'status', { username: USER, password: PASSWORD, insecure: false });
    expect(refused.code).to.equal(1);
    expect(refused.out).to.match(/CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
    const other = new RedfishSim({ username: USER, password: PASSWORD });
    const wrongCa = files.write('other.pem', other.certPem);
    const stillRefused = await fenceRedfish(sim, 'status', { username: USER, password: PASSWORD, caBundle: wrongCa });
    expect(stillRefused.code).to.equal(1);
    const ca = files.write('bmc.pem', sim.certPem);
    const ok = await fenceRedfish(sim, 'status', { username: USER, password: PASSWORD, caBundle: ca });
    expect([ok.code, ok.out.trim()]).to.deep.equal([0, 'Status: ON']);
  });
});
