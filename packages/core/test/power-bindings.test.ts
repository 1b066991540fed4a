import { expect } from 'chai';
import { HaService, InvalidRequestError, PowerManagementService, Secret, type PowerBinding } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';
import { ScriptedDriver } from './power-service-helpers.js';

function bindingOf(host: string, password = 'pw'): PowerBinding {
  return { target: { host, address: `bmc-${host}`, username: 'admin', password: new Secret(password) } };
}

async function setup() {
  const clock = new TestClock();
  const driver = new ScriptedDriver('fake');
  const power = new PowerManagementService({ clock, drivers: [driver] });
  const ha = new HaService({
    providers: [new FakeProvider({ clock, resourceType: 'host' }), new FakeProvider({ clock, resourceType: 'vm' })],
    clock,
    power,
  });
  await ha.start();
  await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
  return { clock, driver, power, ha };
}

describe('HaService power bindings (addResource({ power }))', () => {
  it('registers the binding with the power service itself; removeResource unregisters it', async () => {
    const { power, ha } = await setup();
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1', power: bindingOf('h1') });
    expect(power.list()).to.deep.equal(['h1']);
    await ha.removeResource({ type: 'host', id: 'h1' });
    expect(power.has('h1')).to.equal(false);
    await ha.stop();
  });

  it('a binding registered before with power.register is kept as it is (same binding: no reset)', async () => {
    const { power, ha } = await setup();
    const b = bindingOf('h1');
    power.register('h1', b);
    await power.status('h1', { by: 'operator' });
    expect(power.state('h1')).to.equal('ON');
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1', power: b });
    expect(power.state('h1')).to.equal('ON');
    // An equal binding (another object, same password value) is the same binding too.
    power.register('h1', bindingOf('h1'));
    expect(power.state('h1')).to.equal('ON');
    // A different one replaces it.
    power.register('h1', bindingOf('h1', 'other'));
    expect(power.state('h1')).to.equal('UNKNOWN');
    await ha.stop();
  });

  it('two resource types with the same id each reach only their own controller', async () => {
    const { power, ha } = await setup();
    await ha.addResource({ ref: { type: 'host', id: 'x1' }, partition: 'c1', power: bindingOf('x1') });
    await ha.addResource({ ref: { type: 'vm', id: 'x1' }, partition: 'c1', power: bindingOf('vm-x1') });
    expect(power.list()).to.deep.equal(['x1', 'vm-x1']);
    await ha.removeResource({ type: 'vm', id: 'x1' });
    expect(power.list()).to.deep.equal(['x1']);
    await ha.stop();
  });

  it('refuses a second resource bound to a controller name already taken, naming both', async () => {
    const { power, ha } = await setup();
    await ha.addResource({ ref: { type: 'host', id: 'x1' }, partition: 'c1', power: bindingOf('x1') });
    const err = await ha
      .addResource({ ref: { type: 'vm', id: 'x1' }, partition: 'c1', power: bindingOf('x1', 'other') })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(InvalidRequestError);
    expect((err as Error).message)
      .to.contain("'x1'")
      .and.to.contain("'host:x1'");
    expect(ha.list().map((r) => `${r.ref.type}:${r.ref.id}`)).to.deep.equal(['host:x1']);
    expect(power.list()).to.deep.equal(['x1']);
    await ha.stop();
  });

  it('updateResource moves the binding to its new controller name', async () => {
    const { power, ha } = await setup();
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1', power: bindingOf('h1') });
    await ha.updateResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1', power: bindingOf('h1-bmc') });
    expect(power.list()).to.deep.equal(['h1-bmc']);
    await ha.stop();
  });
});
