import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './e2e-kvm-processes.js';
import { CliSims, within } from './power-sim-helper.js';

const SIM_PORT = 9181;
const TOKEN = 'Tok-8d1e5c0b7a9f4e2d6c3b';

// hafence issue 9, the input and secret findings, through real CLI processes.
describe('hafence: hostile inputs (real processes)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-hostile-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer, mode = 0o600) => {
    const f = join(dir, name);
    writeFileSync(f, content);
    chmodSync(f, mode);
    return f;
  };
  const tokenFile = file('agent.token', `${TOKEN}\n`);
  const cluster = (bmc: string, extra = '', token = tokenFile) => `${extra}agentTokenFile: ${token}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: ${bmc} }
`;
  const okBmc = '{ address: 10.0.0.1, username: admin, passwordEnv: HOSTILE_BMC_PW, drivers: [script] }';
  const serve = (name: string, text: string | Buffer) =>
    within(10_000, ['serve', '--config', file(name, text)], { HOSTILE_BMC_PW: 'Bmc-Pw-31' });

  describe("newline injection into a fence agent's stdin", () => {
    let sims: CliSims;
    before(async () => {
      sims = await CliSims.start(1, SIM_PORT);
    });
    after(async () => {
      await sims?.stop();
    });
    const fence = (host: string, user: string) =>
      within(
        20_000,
        [
          'power',
          'status',
          '--preset',
          'fence-agent',
          '--agent',
          'fence_ipmilan',
          '--host',
          host,
          '--username',
          user,
          '--password-env',
          'BMC_PW',
          '--cipher',
          '3',
        ],
        { BMC_PW: sims.password },
      );

    it('power: a username or address with "\\naction=off" exits 2 and the chassis stays on', async () => {
      sims.setPower(SIM_PORT, 'ON');
      const user = await fence(`127.0.0.1:${SIM_PORT}`, `${sims.user}\naction=off`);
      expect(user.code, user.stderr).to.equal(2);
      expect(user.stderr).to.include('--username');
      const addr = await fence(`[127.0.0.1\naction=off]:${SIM_PORT}`, sims.user);
      expect(addr.code, addr.stderr).to.equal(2);
      expect(sims.power(SIM_PORT)).to.equal('ON');
      expect((await fence(`127.0.0.1:${SIM_PORT}`, sims.user)).stdout).to.equal('on\n'); // the same run, clean, works
    });

    it('serve: a BMC address or username with a newline exits 2 naming the field, nothing starts', async () => {
      const script = 'power: { defaultDrivers: [script], script: { preset: fence-agent } }\n';
      const addr = await serve(
        'inject-addr.yaml',
        cluster('{ address: "10.0.0.1\\naction=off", username: admin, passwordEnv: HOSTILE_BMC_PW }', script),
      );
      expect(addr.code, addr.stderr).to.equal(2);
      expect(addr.stderr).to.include('hosts.h1.bmc.address');
      const user = await serve(
        'inject-user.yaml',
        cluster('{ address: 10.0.0.1, username: "admin\\naction=off", passwordEnv: HOSTILE_BMC_PW }', script),
      );
      expect(user.code, user.stderr).to.equal(2);
      expect(user.stderr).to.include('hosts.h1.bmc.username');
      expect(addr.stdout + user.stdout).to.equal('');
    });
  });

  describe('secret files readable by group or others are refused', () => {
    const loose = file('loose.token', `${TOKEN}\n`, 0o644);

    it('serve: agentTokenFile mode 0644 exits 2 naming the field', async () => {
      const r = await serve('loose-token.yaml', cluster(okBmc, '', loose));
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('agentTokenFile').and.include('group or others').and.not.include(TOKEN);
    });

    it('agent: --token-file mode 0640 exits 2', async () => {
      const [port] = await freePorts(1);
      mkdirSync(join(dir, 'mount'), { recursive: true });
      chmodSync(loose, 0o640);
      const r = await within(10_000, [
        'agent',
        '--host-id',
        'h1',
        '--mount',
        join(dir, 'mount'),
        '--listen',
        `127.0.0.1:${port}`,
        '--token-file',
        loose,
        '--watchdog',
        'none',
        '--stop-vms',
        'none',
      ]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('--token-file').and.include('group or others').and.not.include(TOKEN);
    });

    it('power: --password-file mode 0604 exits 2', async () => {
      const pw = file('loose.pw', 'Loose-Bmc-Pw-5\n', 0o604);
      const r = await within(20_000, [
        'power',
        'status',
        '--host',
        '127.0.0.1',
        '--port',
        '9189',
        '--password-file',
        pw,
        '--timeout-ms',
        '1000',
      ]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include(pw).and.include('group or others').and.not.include('Loose-Bmc-Pw-5');
    });
  });

  describe('errors never print secrets, nor megabytes', () => {
    it('serve --config pointed at the token file: exit 2, the token not printed', async () => {
      const r = await within(10_000, ['serve', '--config', tokenFile]);
      expect(r.code).to.equal(2);
      expect(r.stderr + r.stdout)
        .to.not.include(TOKEN)
        .and.not.include('Tok-8d1e');
    });

    it('a YAML syntax error names the line, never quotes it (an inline password)', async () => {
      const r = await serve('syntax.yaml', `hosts:\n  h1: { bmc: { password: Inline-Pw-Syntax-8, port: [ }\n`);
      expect(r.code).to.equal(2);
      expect(r.stderr)
        .to.match(/line \d+/)
        .and.not.include('Inline-Pw-Syntax-8');
    });

    it('a 5 MB value is shown cut to 80 characters', async () => {
      const r = await serve(
        'big.yaml',
        cluster(
          `{ address: 10.0.0.1, port: "${'9'.repeat(5_000_000)}", username: admin, passwordEnv: HOSTILE_BMC_PW }`,
        ),
      );
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('hosts.h1.bmc.port');
      expect(r.stderr.length).to.be.lessThan(1000);
    });

    it('a password pasted into passwordEnv is not echoed', async () => {
      const r = await serve(
        'pasted.yaml',
        cluster('{ address: 10.0.0.1, username: admin, passwordEnv: "Pasted Pw!7" }'),
      );
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('hosts.h1.bmc.passwordEnv').and.not.include('Pasted Pw!7');
    });
  });

  describe('ids that name prototype slots', () => {
    it('serve: a host __proto__ or a cluster constructor exits 2 naming it (was: the host silently dropped)', async () => {
      const proto = await serve(
        'proto.yaml',
        `${cluster(okBmc)}  __proto__: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: ${okBmc} }\n`,
      );
      expect(proto.code, proto.stderr).to.equal(2);
      expect(proto.stderr).to.include('hosts.__proto__');
      const ctor = await serve('ctor.yaml', cluster(okBmc).replace('cluster: c1', 'cluster: constructor'));
      expect(ctor.code, ctor.stderr).to.equal(2);
      expect(ctor.stderr).to.include('hosts.h1.cluster');
    });

    it('demo: a scenario overriding host __proto__ exits 2 naming it', async () => {
      const f = file(
        'proto-scenario.yaml',
        'name: proto\nhosts: 3\nconfig:\n  hosts:\n    __proto__: { quietPeriod: 1s }\nrun: 1m\n',
      );
      const r = await within(30_000, ['demo', '--scenario', f, '--json']);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('config.hosts.__proto__');
    });
  });

  it('agent: configuration errors exit 2', async () => {
    const [port] = await freePorts(1);
    mkdirSync(join(dir, 'mount'), { recursive: true });
    const agent = (...extra: string[]) =>
      within(10_000, [
        'agent',
        '--host-id',
        'h1',
        '--mount',
        join(dir, 'mount'),
        '--listen',
        `127.0.0.1:${port}`,
        '--token-file',
        tokenFile,
        '--watchdog',
        'none',
        '--stop-vms',
        'none',
        ...extra,
      ]);
    for (const extra of [
      ['--heartbeat-interval', '0'],
      ['--self-fence-after', '1s'],
      ['--listen', '127.0.0.1:99999'],
      ['--peer', 'h2=ftp://10.0.0.2'],
      ['--host-id', '__proto__'],
    ]) {
      const r = await agent(...extra);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).to.equal(2);
    }
    // A password inside a peer URL is refused, never echoed (the URL is shown with its userinfo masked).
    for (const peer of ['h2=http://admin:Peer-Url-Pw-31@127.0.0.1:9', 'http://admin:Peer-Url-Pw-31@127.0.0.1:9']) {
      const r = await agent('--peer', peer);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('--peer').and.include('[redacted]@127.0.0.1:9').and.not.include('Peer-Url-Pw-31');
    }
  });

  it('power: --password-var LD_PRELOAD, PATH, BASH_ENV or NODE_OPTIONS exits 2, the script never runs', async () => {
    const marker = join(dir, 'custom-ran');
    const script = file('custom.sh', `#!/bin/sh\ntouch '${marker}'\necho on\n`, 0o700);
    for (const name of ['LD_PRELOAD', 'PATH', 'BASH_ENV', 'NODE_OPTIONS', 'PYTHONPATH', 'IFS']) {
      const r = await within(
        20_000,
        [
          'power',
          'status',
          '--preset',
          'custom',
          '--command',
          script,
          '--host',
          'h1',
          '--password-var',
          name,
          '--password-env',
          'PW',
        ],
        { PW: 'Custom-Pw-1' },
      );
      expect(r.code, `${name}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.include('--password-var');
    }
    expect(() => rmSync(marker)).to.throw(); // never created
  });

  describe('text that is not UTF-8', () => {
    const latin1 = (text: string) => Buffer.from(text, 'latin1');

    it('serve: a cluster file with a non-UTF-8 byte exits 2 naming the file', async () => {
      const r = await serve('latin1.yaml', latin1(`# caf\u00e9\n${cluster(okBmc)}`));
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('latin1.yaml').and.include('UTF-8');
    });

    it('power: a password file that is not UTF-8 exits 2 naming it', async () => {
      const pw = file('latin1.pw', latin1('p\u00e4ssword\n'));
      const r = await within(20_000, [
        'power',
        'status',
        '--host',
        '127.0.0.1',
        '--port',
        '9189',
        '--password-file',
        pw,
        '--timeout-ms',
        '1000',
      ]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include(pw).and.include('UTF-8');
    });
  });
});
