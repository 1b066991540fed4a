import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SimBmc } from '@hafence/power-ipmi/sim';

const PASSWORD = 'tool-secret-9';
const USERS = [{ name: 'admin', password: PASSWORD, privilege: 4 }];

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: `${String(stdout)}${String(stderr)}` });
    });
  });
}

describe('SimBmc vs ipmitool without -C (Get Channel Cipher Suites)', function () {
  this.timeout(30000);
  it('ipmitool picks a suite from our list and reads the power state', async () => {
    const bmc = await SimBmc.start({ users: USERS, power: 'ON' });
    try {
      const r = await run(
        'ipmitool',
        [
          '-I',
          'lanplus',
          '-N',
          '1',
          '-R',
          '2',
          '-H',
          '127.0.0.1',
          '-p',
          String(bmc.port),
          '-U',
          'admin',
          '-E',
          'chassis',
          'power',
          'status',
        ],
        { IPMI_PASSWORD: PASSWORD },
      );
      expect(r.out).to.match(/Chassis Power is on/);
    } finally {
      await bmc.close();
    }
  });
});

// Real clients against our simulator: this is what proves the suite-17 code (no
// other BMC here speaks it). Passwords go through the environment or a 0600 file.
for (const suite of [17, 3]) {
  describe(`SimBmc vs ipmitool -I lanplus -C ${suite}`, function () {
    this.timeout(30000);
    let bmc: SimBmc;
    const ipmitool = (...cmd: string[]) =>
      run(
        'ipmitool',
        [
          '-I',
          'lanplus',
          '-C',
          String(suite),
          '-N',
          '1',
          '-R',
          '2',
          '-H',
          '127.0.0.1',
          '-p',
          String(bmc.port),
          '-U',
          'admin',
          '-E',
          ...cmd,
        ],
        { IPMI_PASSWORD: PASSWORD },
      );

    before(async () => {
      bmc = await SimBmc.start({ users: USERS, cycleMs: 100 });
    });
    after(async () => {
      await bmc.close();
    });

    it('chassis power status / on / off', async () => {
      bmc.chassis.power = 'OFF';
      expect((await ipmitool('chassis', 'power', 'status')).out).to.match(/Chassis Power is off/);
      expect((await ipmitool('chassis', 'power', 'on')).code).to.equal(0);
      expect(bmc.chassis.power).to.equal('ON');
      expect((await ipmitool('chassis', 'power', 'status')).out).to.match(/Chassis Power is on/);
      expect((await ipmitool('chassis', 'power', 'off')).code).to.equal(0);
      expect(bmc.chassis.power).to.equal('OFF');
    });

    it('chassis power cycle, reset, soft; chassis identify; chassis status; mc info', async () => {
      bmc.chassis.power = 'ON';
      expect((await ipmitool('chassis', 'power', 'cycle')).code).to.equal(0);
      expect((await ipmitool('chassis', 'power', 'reset')).code).to.equal(0);
      expect(bmc.chassis.resets).to.equal(1);
      await new Promise((r) => setTimeout(r, 150));
      expect((await ipmitool('chassis', 'power', 'soft')).code).to.equal(0);
      expect(bmc.chassis.power).to.equal('OFF');
      expect((await ipmitool('chassis', 'identify', '7')).code).to.equal(0);
      expect(bmc.chassis.identifySeconds).to.equal(7);
      expect((await ipmitool('chassis', 'status')).out).to.match(/System Power\s+: off/);
      expect((await ipmitool('mc', 'info')).out).to.match(/IPMI Version\s+: 2.0/);
      expect(bmc.chassis.log).to.include.members(['cycle', 'reset', 'soft', 'identify 7']);
      expect(bmc.sessionCount).to.equal(0); // ipmitool closes its sessions
    });

    it('a wrong password fails', async () => {
      const r = await run(
        'ipmitool',
        [
          '-I',
          'lanplus',
          '-C',
          String(suite),
          '-N',
          '1',
          '-R',
          '1',
          '-H',
          '127.0.0.1',
          '-p',
          String(bmc.port),
          '-U',
          'admin',
          '-E',
          'chassis',
          'power',
          'status',
        ],
        { IPMI_PASSWORD: 'wrong' },
      );
      expect(r.code).to.not.equal(0);
    });
  });

  describe(`SimBmc vs FreeIPMI ipmipower -I ${suite}`, function () {
    this.timeout(30000);
    let bmc: SimBmc;
    let dir: string;
    let conf: string;
    const ipmipower = (action: string) =>
      run('ipmipower', [
        '--config-file',
        conf,
        '-D',
        'LAN_2_0',
        '-I',
        String(suite),
        '-h',
        `127.0.0.1:${bmc.port}`,
        action,
      ]);

    before(async () => {
      bmc = await SimBmc.start({ users: USERS, cycleMs: 100 });
      dir = await mkdtemp(join(tmpdir(), 'hafence-freeipmi-'));
      conf = join(dir, 'freeipmi.conf');
      await writeFile(conf, `username admin\npassword ${PASSWORD}\n`, { mode: 0o600 });
    });
    after(async () => {
      await bmc.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('--stat, --on, --off, --cycle, --reset, --soft', async () => {
      bmc.chassis.power = 'OFF';
      expect((await ipmipower('--stat')).out).to.match(/: off/);
      expect((await ipmipower('--on')).out).to.match(/: ok/);
      expect(bmc.chassis.power).to.equal('ON');
      expect((await ipmipower('--stat')).out).to.match(/: on/);
      expect((await ipmipower('--cycle')).out).to.match(/: ok/);
      expect((await ipmipower('--reset')).out).to.match(/: ok/);
      await new Promise((r) => setTimeout(r, 150));
      expect((await ipmipower('--soft')).out).to.match(/: ok/);
      expect(bmc.chassis.power).to.equal('OFF');
      expect((await ipmipower('--on')).out).to.match(/: ok/);
      expect((await ipmipower('--off')).out).to.match(/: ok/);
      expect(bmc.chassis.power).to.equal('OFF');
      expect(bmc.chassis.log).to.include.members(['on', 'cycle', 'reset', 'soft', 'off']);
    });
  });
}
