import { expect } from 'chai';
import { ConfigError, systemClock } from '@hafence/core';
import { FenceAgentPreset, ScriptPowerDriver } from '@hafence/power-script';
import { BmcSims, requireTools } from './helpers/bmc-sim.js';

const PORT = 9171;

// fence_ipmilan reads `name=value` lines on stdin and keeps the last value of a name:
// an address or a username ending in "\naction=off" would turn a status read into a
// power-off. A real run against ipmi_sim proves the BMC never sees it.
describe('fence_ipmilan: a newline in the address or username never reaches the BMC as an off', () => {
  let sims: BmcSims;
  const driver = new ScriptPowerDriver({ preset: 'fence-agent', fenceAgent: { agent: 'fence_ipmilan' } });
  const call = () => ({ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 });

  before(async function () {
    this.timeout(30_000);
    requireTools('fence_ipmilan');
    sims = await BmcSims.start(1, PORT);
  });
  after(async function () {
    this.timeout(30_000);
    await sims?.stop();
  });

  for (const field of ['address', 'username'] as const) {
    it(`status with "\\naction=off" in the ${field}: refused, the chassis stays on`, async function () {
      this.timeout(20_000);
      sims.setPower(PORT, 'ON');
      const t = sims.target(PORT);
      const hostile = { ...t, [field]: `${t[field]}\naction=off` };
      const err = await driver.status(hostile, call()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect(sims.readPower(PORT)).to.equal('ON');
      expect(sims.chassisLog(PORT)).to.not.match(/power 0/);
      expect(await driver.status(t, call())).to.equal('ON'); // the BMC and the agent work
    });
  }

  it('the preset puts exactly one action= line on stdin for clean values', async () => {
    const preset = new FenceAgentPreset({ agent: 'fence_ipmilan' }, systemClock);
    const inv = await preset.prepare(
      { op: 'status', target: sims.target(PORT), timeoutMs: 5000 },
      AbortSignal.timeout(10_000),
    );
    expect(inv.stdin!.split('\n').filter((l) => l.startsWith('action='))).to.deep.equal(['action=status']);
  });
});
