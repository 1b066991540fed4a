import { expect } from 'chai';
import { ProtocolError, UnsupportedOperationError } from '@hafence/core';
import {
  chooseResetType,
  parseRedfishJson,
  readActionInfo,
  readErrorInfo,
  readMembers,
  readServiceRoot,
  readSystem,
  readTask,
  toRequestPath,
} from '@hafence/power-redfish/protocol';
import { ACTION_INFO, DELL_SYSTEM, ERROR, HPE_SYSTEM, SERVICE_ROOT, SYSTEMS, TASK } from './helpers/corpus.js';

const H = 'bmc1';
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'untyped';
  }
};

describe('Redfish response readers', () => {
  it('parses a JSON object, a BOM in front too', () => {
    expect(parseRedfishJson(bytes(SERVICE_ROOT), H, 'root')).to.deep.equal(SERVICE_ROOT);
    expect(parseRedfishJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes({ a: 1 })]), H, 'x')).to.deep.equal({
      a: 1,
    });
  });

  it('refuses non-JSON, non-objects and broken UTF-8 with ProtocolError', () => {
    for (const body of [
      bytes('{"a":'),
      bytes('[1]'),
      bytes('null'),
      bytes('"x"'),
      Buffer.from([0x7b, 0xff, 0x7d]),
      bytes(''),
    ])
      expect(codeOf(() => parseRedfishJson(body, H, 'x'))).to.equal('HAF1004');
  });

  it('reads the service root and a collection', () => {
    expect(readServiceRoot(SERVICE_ROOT, H)).to.deep.equal({
      systems: '/redfish/v1/Systems',
      sessions: '/redfish/v1/SessionService/Sessions',
    });
    expect(readServiceRoot({ Systems: { '@odata.id': '/redfish/v1/Systems' } }, H)).to.deep.equal({
      systems: '/redfish/v1/Systems',
    });
    expect(readMembers(SYSTEMS, H, 'Systems')).to.deep.equal(['/redfish/v1/Systems/System.Embedded.1']);
    expect(codeOf(() => readServiceRoot({}, H))).to.equal('HAF1004');
    expect(codeOf(() => readMembers({ Members: [{}] }, H, 'Systems'))).to.equal('HAF1004');
  });

  it('reads a Dell-like system: power, inline allowable values, ETag, IndicatorLED', () => {
    const sys = readSystem(DELL_SYSTEM, H, '/x');
    expect(sys).to.deep.include({
      path: DELL_SYSTEM['@odata.id'],
      power: 'ON',
      powerState: 'On',
      etag: 'W/"gen-3"',
      indicator: 'IndicatorLED',
    });
    expect(sys.reset?.allowable).to.include('ForceOff');
  });

  it('reads an HPE-like system: the allowable values behind an ActionInfo', () => {
    const sys = readSystem(HPE_SYSTEM, H, '/x');
    expect(sys).to.deep.include({ power: 'OFF', indicator: 'LocationIndicatorActive' });
    expect(sys.reset).to.deep.equal({
      target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
      actionInfo: '/redfish/v1/Systems/1/ResetActionInfo',
    });
    expect(readActionInfo(ACTION_INFO, H)).to.deep.equal(['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart']);
  });

  it('only a settled Off is OFF; PoweringOff is still ON; an unknown state is a ProtocolError', () => {
    expect(readSystem({ PowerState: 'PoweringOff' }, H, '/s').power).to.equal('ON');
    expect(readSystem({ PowerState: 'Off' }, H, '/s').power).to.equal('OFF');
    expect(codeOf(() => readSystem({ PowerState: 'off-ish' }, H, '/s'))).to.equal('HAF1004');
    expect(codeOf(() => readSystem({ PowerState: 'constructor' }, H, '/s'))).to.equal('HAF1004');
    expect(codeOf(() => readSystem({}, H, '/s'))).to.equal('HAF1004');
  });

  it('chooses the ResetType of each command among the offered ones, and never assumes one', () => {
    const all = ['On', 'ForceOn', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'];
    expect(['on', 'off', 'soft', 'reset', 'cycle'].map((c) => chooseResetType(c as 'on', all))).to.deep.equal([
      'On',
      'ForceOff',
      'GracefulShutdown',
      'ForceRestart',
      'PowerCycle',
    ]);
    expect(chooseResetType('on', ['ForceOn', 'ForceOff'])).to.equal('ForceOn');
    let err: unknown;
    try {
      chooseResetType('cycle', ['On', 'ForceOff']);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UnsupportedOperationError);
    expect((err as Error).message).to.include('PowerCycle');
    expect(codeOf(() => chooseResetType('off', []))).to.equal('HAF1005');
  });

  it('reads tasks and error bodies (@Message.ExtendedInfo), never throwing on odd errors', () => {
    expect(readTask(TASK, H)).to.deep.equal({ state: 'Running', status: 'OK' });
    expect(readTask({}, H)).to.equal(undefined);
    expect(codeOf(() => readTask({ TaskState: 3 }, H))).to.equal('HAF1004');
    expect(readErrorInfo(ERROR).messageIds).to.deep.equal([
      'Base.1.8.GeneralError',
      'Base.1.8.ActionParameterValueNotInList',
    ]);
    expect(readErrorInfo({ error: 'x', '@Message.ExtendedInfo': 7, Messages: [null, 1] })).to.deep.equal({
      messageIds: [],
      messages: [],
    });
  });

  it('links stay on the BMC: absolute URLs give their path, other hosts and schemes are refused', () => {
    expect(toRequestPath('/redfish/v1/Systems/1', H, 'x')).to.equal('/redfish/v1/Systems/1');
    expect(toRequestPath('https://10.0.0.9/redfish/v1/TaskMonitors/3?x=1', H, 'x')).to.equal(
      '/redfish/v1/TaskMonitors/3?x=1',
    );
    // a fragment is the client's: never sent (found from outside)
    expect(toRequestPath('/redfish/v1/Systems/1#/Members/0', H, 'x')).to.equal('/redfish/v1/Systems/1');
    expect(toRequestPath('https://10.0.0.9/tm/3?x=1#f', H, 'x')).to.equal('/tm/3?x=1');
    for (const bad of [
      '//evil.example/x',
      'ftp://x/y',
      'redfish/v1',
      '/a\r\nX-Injected: 1',
      '/a b',
      5,
      null,
      '',
      '/s/é',
      '#x',
    ])
      expect(
        codeOf(() => toRequestPath(bad, H, 'x')),
        String(bad),
      ).to.equal('HAF1004');
  });

  it('every rejection is a ProtocolError instance', () => {
    expect(() => readSystem({ PowerState: 1 }, H, '/s')).to.throw(ProtocolError);
  });
});
