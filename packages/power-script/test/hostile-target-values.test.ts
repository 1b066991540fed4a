import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Secret, type PowerTarget } from '@hafence/core';
import { CustomPreset, ScriptPowerDriver, type ScriptPowerDriverOptions } from '@hafence/power-script';

// The preset is the second line of defence (the first is config validation): a value
// with a control character in any field of the target must be refused before any
// process starts — a fence agent takes the last `action=` line it reads on stdin.
const INJECT = '\naction=off';

describe('presets refuse control characters in every field, before spawning anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hafence-hostile-'));
  const marker = join(dir, 'ran');
  // Stands in for every executable (ipmitool, the fence agent, a custom script): it
  // leaves a marker when started at all, metadata runs included.
  const exe = join(dir, 'power-exe');
  writeFileSync(exe, `#!/bin/sh\ntouch '${marker}'\necho 'Chassis Power is on'\n`);
  chmodSync(exe, 0o755);
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => rmSync(marker, { force: true }));

  const base = (): PowerTarget => ({
    host: 'h1',
    address: '10.0.0.1',
    port: 623,
    username: 'admin',
    password: new Secret('Pw-123'),
    options: { cipher: 3 },
  });
  const cases: Array<[string, (t: PowerTarget) => PowerTarget]> = [
    ['address', (t) => ({ ...t, address: `10.0.0.1${INJECT}` })],
    ['username', (t) => ({ ...t, username: `admin${INJECT}` })],
    ['password', (t) => ({ ...t, password: new Secret(`Pw-123${INJECT}`) })],
    ['host', (t) => ({ ...t, host: `h1${INJECT}` })],
    ['a carriage return in the username', (t) => ({ ...t, username: 'admin\raction=off' })],
    ['a NUL in the address', (t) => ({ ...t, address: '10.0.0.1\0' })],
    ['options.privilege', (t) => ({ ...t, options: { ...t.options, privilege: `USER${INJECT}` } })],
    ['options.agentOptions value', (t) => ({ ...t, options: { ...t.options, agentOptions: { delay: `5${INJECT}` } } })],
  ];
  const drivers: Array<[string, ScriptPowerDriverOptions]> = [
    ['ipmitool', { preset: 'ipmitool', ipmitool: { command: exe, cipher: 3 } }],
    ['fence-agent', { preset: 'fence-agent', fenceAgent: { agent: exe, cipher: 3 } }],
    [
      'custom (password in the environment)',
      { preset: 'custom', custom: { command: exe, args: ['{address}', '{username}', '{host}', '{action}'] } },
    ],
    [
      'custom (password on stdin)',
      {
        preset: 'custom',
        custom: {
          command: exe,
          args: ['{action}'],
          password: { stdin: true },
          stdin: ['user={username}', 'ip={address}'],
        },
      },
    ],
  ];
  for (const [preset, options] of drivers) {
    for (const [field, mutate] of cases) {
      it(`${preset}: ${field}`, async () => {
        const driver = new ScriptPowerDriver(options);
        let spawned = 0;
        const watched = new ScriptPowerDriver({ ...options, onSpawn: () => spawned++ });
        for (const d of [driver, watched]) {
          const err = await d.status(mutate(base()), { signal: AbortSignal.timeout(5000), timeoutMs: 5000 }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, `${preset} ${field}`).to.be.instanceOf(ConfigError);
          expect((err as ConfigError).code).to.equal('HAF2001');
          expect((err as Error).message).to.not.include('Pw-123');
        }
        expect(spawned).to.equal(0);
        expect(existsSync(marker), 'a process was started').to.equal(false);
      });
    }
  }

  it('a custom preset refuses loader and shell variables as the password variable', () => {
    for (const name of [
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'PATH',
      'HOME',
      'IFS',
      'NODE_OPTIONS',
      'BASH_ENV',
      'ENV',
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PERL5OPT',
      'GCONV_PATH',
      'LC_ALL',
      'path',
      'A-B',
      '1X',
      '',
    ]) {
      const err = (() => {
        try {
          new CustomPreset({ command: exe, args: ['{action}'], password: { env: name } });
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(err, name).to.be.instanceOf(ConfigError);
    }
    expect(
      () => new CustomPreset({ command: exe, args: ['{action}'], password: { env: 'BMC_PASSWORD' } }),
    ).to.not.throw();
  });
});
