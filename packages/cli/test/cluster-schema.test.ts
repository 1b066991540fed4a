import { expect } from 'chai';

/** The part of zod's answer these tests read. */
type Parse = { success: true } | { success: false; error: { issues: { path: (string | number)[] }[] } };
type ClusterFileOptions = Record<string, unknown>;
const { clusterFileSchema } = (await import(
  new URL('../../dist/standalone/cluster-schema.js', import.meta.url).href
)) as { clusterFileSchema: { safeParse(input: unknown): Parse } };

/** A valid two-host file; `bmc` overrides the BMC of h1 (and of h2 when `both`). */
function file(h1: Record<string, unknown> = {}, h2: Record<string, unknown> = {}): ClusterFileOptions {
  const bmc = (address: string, extra: Record<string, unknown>) => ({
    address,
    username: 'admin',
    passwordEnv: 'BMC_PW',
    ...extra,
  });
  return {
    agentTokenFile: '/etc/hafence/agent.token',
    zones: { z1: {} },
    pods: { p1: { zone: 'z1' } },
    clusters: { c1: { pod: 'p1' } },
    hosts: {
      h1: { cluster: 'c1', agent: { url: 'http://10.0.0.11:8423' }, bmc: bmc('10.0.1.11', h1) },
      h2: { cluster: 'c1', agent: { url: 'http://10.0.0.12:8423' }, bmc: bmc('10.0.1.12', h2) },
    },
  };
}

/** The paths of the issues a parse reports (empty when it passes). */
function refusedAt(input: ClusterFileOptions): string[] {
  const r = clusterFileSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
}

describe('cluster file: BMC cipher suites and shared controllers', () => {
  it('accepts the suites the IPMI driver speaks', () => {
    for (const cipherSuite of [3, 17]) expect(refusedAt(file({ cipherSuite }))).to.deep.equal([]);
    expect(refusedAt(file({ cipherSuite: 0, allowCipher0: true }))).to.deep.equal([]);
  });

  it('refuses a suite the driver does not speak, naming the field', () => {
    for (const cipherSuite of [99, 4, -1, 255]) {
      expect(refusedAt(file({ cipherSuite })), String(cipherSuite)).to.deep.equal(['hosts.h1.bmc.cipherSuite']);
    }
  });

  it('refuses cipher suite 0 without allowCipher0', () => {
    expect(refusedAt(file({ cipherSuite: 0 }))).to.deep.equal(['hosts.h1.bmc.cipherSuite']);
    expect(refusedAt(file({ cipherSuite: 0, allowCipher0: false }))).to.deep.equal(['hosts.h1.bmc.cipherSuite']);
  });

  it('refuses two hosts on one controller address and port (a stop of one would stop both)', () => {
    expect(refusedAt(file({}, { address: '10.0.1.11' }))).to.deep.equal(['hosts.h2.bmc.address']);
    expect(refusedAt(file({ address: 'BMC-A.example' }, { address: 'bmc-a.example' }))).to.deep.equal([
      'hosts.h2.bmc.address',
    ]);
  });

  it('a Redfish-only host is on its Redfish port: two on one address and IPMI port, different Redfish ports, pass', () => {
    const rf = (port: number) => ({ address: '127.0.0.1', drivers: ['redfish'], redfish: { port } });
    expect(refusedAt(file(rf(8443), rf(8444)))).to.deep.equal([]);
    expect(refusedAt(file(rf(8443), rf(8443)))).to.deep.equal(['hosts.h2.bmc.address']);
    // A [redfish, ipmi] chain uses both: sharing either one is refused.
    expect(refusedAt(file(rf(8443), { ...rf(8444), drivers: ['redfish', 'ipmi'] }))).to.deep.equal([]);
    expect(
      refusedAt(file({ ...rf(8443), drivers: ['ipmi'] }, { ...rf(8444), drivers: ['redfish', 'ipmi'] })),
    ).to.deep.equal(['hosts.h2.bmc.address']);
  });

  it('accepts one controller address on different ports', () => {
    expect(refusedAt(file({ port: 6230 }, { address: '10.0.1.11', port: 6231 }))).to.deep.equal([]);
  });
});
