// A mocha test of your own HA policy against hafence's simulated KVM cluster: real
// engine, real KVM provider, simulated hosts, agents, shared storage and BMCs, all in
// virtual time — an hour of HA runs in well under a second.
import 'reflect-metadata';
import { expect } from 'chai';
import { createSimKvmEnv, parseScenario, runScenario, type SimKvmEnv } from '@hafence/sim';

const MIN = 60_000;
const host = (id: string) => ({ type: 'host', id });

describe('example: testing HA behaviour with the simulated cluster', () => {
  let env: SimKvmEnv;

  beforeEach(async () => {
    env = await createSimKvmEnv({ hosts: 4, config: { startupGrace: '2m' } });
    await env.clock.advance(3 * MIN);
  });

  afterEach(async () => env.close());

  it('a crashed host is rebooted and its VMs released exactly once', async () => {
    env.sim.crash('h2');
    await env.clock.advance(15 * MIN);
    expect(env.service.resource(host('h2')).state).to.equal('AVAILABLE');
    const released = env.events.filter((e) => e.type === 'workloads.released');
    expect(released).to.have.length(1);
    expect(released[0]).to.include({ resource: 'h2', resourceType: 'host', proof: 'power-off' });
  });

  it('a host that only lost its agent is never powered off', async () => {
    env.sim.setAgentLink('h3', false);
    await env.clock.advance(30 * MIN);
    expect(env.events.filter((e) => e.type === 'power.action' && e.by === 'ha' && e.action !== 'status')).to.deep.equal(
      [],
    );
    expect(env.service.resource(host('h3')).state).to.be.oneOf(['DEGRADED', 'SUSPECT', 'CHECKING']);
  });

  it('the same thing as a scenario, the format of `hafence demo --scenario`', async () => {
    const lines = await runScenario(
      parseScenario({
        name: 'storage outage',
        hosts: 4,
        steps: [
          { at: '6m', do: 'storage-down' },
          { at: '20m', do: 'storage-up' },
        ],
        run: '30m',
      }),
    );
    expect(lines.filter((l) => l.type === 'workloads.released')).to.deep.equal([]);
  });
});
