import { expect } from 'chai';
import { AuthError, type ConfigError, DriverError, Secret, UnreachableError } from '@hafence/core';
import { classifyFailure, parseFenceMetadata, validateFenceOptions } from '@hafence/power-script';

const XML = `<?xml version="1.0" ?>
<resource-agent name="fence_demo" shortdesc="Demo &amp; test agent" >
<parameters>
  <parameter name="action" unique="0" required="1"><content type="string" default="reboot" /></parameter>
  <parameter name="ip" unique="0" required="1" obsoletes="ipaddr"><content type="string" /></parameter>
  <parameter name="ipport" unique="0" required="0"><content type="integer" default="623" /></parameter>
  <parameter name="lanplus" unique="0" required="0"><content type="boolean" default="0" /></parameter>
  <parameter name="method" unique="0" required="0"><content type="select" default="onoff"><option value="onoff" /><option value="cycle" /></content></parameter>
</parameters>
<actions><action name="on" automatic="0"/><action name="off" /><action name="status" /><action name="metadata" /></actions>
</resource-agent>`;

describe('fence-agent metadata and failure classification', () => {
  it('parses parameters, types, choices, obsoleted names and actions', () => {
    const meta = parseFenceMetadata(XML);
    expect(meta.name).to.equal('fence_demo');
    expect([...meta.parameters.keys()]).to.deep.equal(['action', 'ip', 'ipport', 'lanplus', 'method']);
    expect(meta.parameters.get('ip')).to.deep.include({ required: true, obsoletes: 'ipaddr', type: 'string' });
    expect(meta.parameters.get('ipport')).to.deep.include({ type: 'integer', default: '623' });
    expect(meta.parameters.get('method')?.choices).to.deep.equal(['onoff', 'cycle']);
    expect([...meta.actions]).to.deep.equal(['on', 'off', 'status', 'metadata']);
    expect(() => parseFenceMetadata('<html>nope</html>')).to.throw(/not fence-agent metadata/);
  });

  it('validates options by name, type and choice, naming the field', () => {
    const meta = parseFenceMetadata(XML);
    validateFenceOptions(meta, { ipaddr: '10.0.0.1', ipport: '624', lanplus: '1', method: 'cycle' });
    const err = (opts: Record<string, string>) => {
      try {
        validateFenceOptions(meta, opts);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(err({ bogus: '1' }).message)
      .to.include('agentOptions.bogus')
      .and.include('no such option');
    expect(err({ ipport: 'x' }).message).to.include('must be an integer');
    expect(err({ lanplus: 'maybe' }).message).to.include('boolean');
    expect(err({ method: 'magic' }).message).to.include('one of onoff, cycle');
    expect(err({ ip: 'a\nb' }).message).to.include('newline');
  });

  it('maps tool output to typed errors and keeps the password out of the excerpt', () => {
    const request = {
      op: 'status' as const,
      target: { host: 'h', address: 'a', password: new Secret('pw-xyz-1') },
      timeoutMs: 1000,
    };
    const result = (stderr: string, code = 1) => ({ code, signal: null, stdout: '', stderr, truncated: false });
    expect(classifyFailure('d', request, result('> RAKP 2 HMAC is invalid\nusing pw-xyz-1'))).to.be.instanceOf(
      AuthError,
    );
    expect(
      classifyFailure('d', request, result('RAKP 2 message indicates an error : unauthorized name')),
    ).to.be.instanceOf(AuthError);
    expect(classifyFailure('d', request, result('Get Auth Capabilities error'))).to.be.instanceOf(UnreachableError);
    expect(classifyFailure('d', request, result('ERROR: Connection timed out'))).to.be.instanceOf(UnreachableError);
    const other = classifyFailure('d', request, result('disk on fire pw-xyz-1', 9));
    expect(other).to.be.instanceOf(DriverError);
    expect(other.message).to.include('exit 9').and.include('[redacted]');
    expect(other.message).to.not.include('pw-xyz-1');
    expect(classifyFailure('d', request, result('> RAKP 2 HMAC is invalid pw-xyz-1')).message).to.not.include(
      'pw-xyz-1',
    );
  });
});
