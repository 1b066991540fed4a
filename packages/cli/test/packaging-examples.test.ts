import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAFENCE_BIN } from './power-sim-helper.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/' && !existsSync(join(dir, 'examples', 'standalone'))) dir = dirname(dir);
  if (dir === '/') throw new Error('examples/standalone not found');
  return dir;
}

const ROOT = repoRoot();
const STANDALONE = join(ROOT, 'examples', 'standalone');
const UNITS = ['hafence-agent.service', 'hafence-serve.service'] as const;
/** Where the units expect the command (`npm install -g` on Debian's Node.js). */
const INSTALLED_BIN = '/usr/local/bin/hafence';

/** A unit file as section → key → values (a key may repeat); `\` continuation lines joined. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of text.replace(/\\\n\s*/g, ' ').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(trimmed);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit line: ${trimmed}`);
    const key = trimmed.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), trimmed.slice(eq + 1)]);
  }
  return sections;
}

function unit(name: string) {
  const parsed = parseUnit(readFileSync(join(STANDALONE, name), 'utf8'));
  const service = parsed.get('Service')!;
  const one = (key: string) => {
    const values = service.get(key);
    expect(values, `${name}: ${key}=`).to.not.equal(undefined);
    return values![values!.length - 1]!;
  };
  const all = (key: string) => service.get(key) ?? [];
  const argv = one('ExecStart').split(/\s+/);
  const flag = (f: string) => {
    const i = argv.indexOf(f);
    return i < 0 ? undefined : argv[i + 1];
  };
  return { parsed, service, one, all, argv, flag };
}

/** The long options `hafence <command>` accepts, as its `--help` lists them (the real command). */
function optionsOf(command: string): Set<string> {
  const help = execFileSync(process.execPath, [HAFENCE_BIN, command, '--help'], { encoding: 'utf8' });
  return new Set(help.split('\n').flatMap((l) => /^\s+(?:-\w, )?(--[\w-]+)/.exec(l)?.[1] ?? []));
}

// Issue 12 item 6: the packaged services of examples/standalone.
describe('examples/standalone: systemd units', () => {
  it('pass `systemd-analyze verify` without a single warning', function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'hafence-units-'));
    try {
      // verify wants ExecStart's binary to exist: point it at this checkout's `hafence`.
      const bin = join(ROOT, 'packages', 'cli', 'bin', 'hafence.js');
      const files = UNITS.map((name) => {
        const text = readFileSync(join(STANDALONE, name), 'utf8');
        expect(text).to.include(`ExecStart=${INSTALLED_BIN} `);
        writeFileSync(join(dir, name), text.split(`ExecStart=${INSTALLED_BIN} `).join(`ExecStart=${bin} `));
        return join(dir, name);
      });
      const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      expect(r.error, 'systemd-analyze (apt package systemd; scripts/setup.sh installs it)').to.equal(undefined);
      expect(`${r.stdout}${r.stderr}`).to.equal('');
      expect(r.status).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const name of UNITS) {
    it(`${name}: restarts on failure, is hardened, and takes its secrets through LoadCredential=`, () => {
      const u = unit(name);
      expect(u.one('Restart')).to.equal('on-failure');
      expect(u.one('RestartSec')).to.match(/^\d+s$/);
      expect(Number(u.one('LimitNOFILE'))).to.be.at.least(4096);
      expect(u.one('NoNewPrivileges')).to.equal('yes');
      expect(u.one('ProtectSystem')).to.equal('strict');
      expect(u.one('ProtectHome')).to.equal('yes');
      expect(u.one('PrivateTmp')).to.equal('yes');
      expect(u.one('AmbientCapabilities')).to.equal('');
      expect(u.one('Type'), 'no sd_notify: see the unit header').to.equal('exec');
      expect(u.all('WatchdogSec')).to.deep.equal([]);
      expect(u.argv[0]).to.equal(INSTALLED_BIN);
      // every secret file comes from the credentials directory, each one loaded
      const loaded = new Set(u.all('LoadCredential').map((c) => c.slice(0, c.indexOf(':'))));
      const secretFlags = u.argv.filter((a) => /^--(.*token-file|tls-key|http-token-file|http-tls-key)$/.test(a));
      expect(secretFlags.length).to.be.greaterThan(0);
      for (const f of secretFlags) {
        const value = u.flag(f)!;
        expect(value, f).to.match(/^\$\{CREDENTIALS_DIRECTORY\}\//);
        expect(loaded.has(value.split('/')[1]!), `${f}: LoadCredential of ${value}`).to.equal(true);
      }
      for (const c of u.all('LoadCredential')) expect(c).to.match(/^[\w.-]+:\/etc\/hafence\/[\w.-]+$/);
    });
  }

  it('hafence-agent.service: writes only the pool mount, opens only the watchdog, keeps only CAP_DAC_READ_SEARCH', () => {
    const u = unit('hafence-agent.service');
    expect(u.argv[1]).to.equal('agent');
    const mount = u.flag('--mount')!;
    expect(u.all('ReadWritePaths')).to.deep.equal([mount]);
    expect(u.parsed.get('Unit')!.get('RequiresMountsFor')).to.deep.equal([mount]);
    expect(u.one('CapabilityBoundingSet')).to.equal('CAP_DAC_READ_SEARCH');
    expect(u.one('DevicePolicy')).to.equal('closed');
    expect(u.all('DeviceAllow')).to.deep.equal(['/dev/watchdog rw', '/dev/watchdog0 rw']);
    expect(u.flag('--watchdog'), 'no CAP_SYS_MODULE: the softdog is loaded at boot').to.equal('device');
    expect(u.all('User')).to.deep.equal(['root']);
  });

  it('hafence-serve.service: no capability, a dynamic user, its state directory, the API on loopback', () => {
    const u = unit('hafence-serve.service');
    expect(u.argv[1]).to.equal('serve');
    expect(u.one('CapabilityBoundingSet')).to.equal('');
    expect(u.one('DynamicUser')).to.equal('yes');
    expect(u.one('StateDirectory')).to.equal('hafence');
    expect(u.one('PrivateDevices')).to.equal('yes');
    expect(u.flag('--http')).to.equal('127.0.0.1:9440');
  });

  // The units must not drift from the command: every flag they pass exists.
  for (const [name, command] of [
    ['hafence-agent.service', 'agent'],
    ['hafence-serve.service', 'serve'],
  ] as const) {
    it(`${name}: every flag of ExecStart= is an option of \`hafence ${command}\``, () => {
      const known = optionsOf(command);
      const flags = unit(name).argv.filter((a) => a.startsWith('--'));
      expect(flags.filter((f) => !known.has(f))).to.deep.equal([]);
    });
  }
});

/** Dockerfile instructions (`\` continuations joined, comments dropped), each split into its keyword and the rest. */
function dockerInstructions(text: string): Array<{ op: string; args: string }> {
  return text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
}

describe('examples/standalone: Dockerfile of `hafence serve` (static: no Docker daemon in the test run)', () => {
  const text = readFileSync(join(STANDALONE, 'Dockerfile'), 'utf8');
  const all = dockerInstructions(text);
  const froms = all.map((ins, i) => ({ ...ins, i })).filter((ins) => ins.op === 'FROM');
  const build = all.slice(froms[0]!.i, froms[1]?.i);
  const runtime = all.slice(froms[froms.length - 1]!.i);

  it('two stages on the Node 20 image: a build stage and a runtime stage', () => {
    expect(froms).to.have.length(2);
    const arg = all.find((ins) => ins.op === 'ARG' && ins.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).to.match(/^NODE_IMAGE=node:20-[a-z]+-slim$/);
    expect(froms[0]!.args).to.equal('${NODE_IMAGE} AS build');
    expect(froms[1]!.args).to.equal('${NODE_IMAGE}');
  });

  it('builds with npm ci and tsc -b, and keeps only the production dependencies', () => {
    const runs = build.filter((ins) => ins.op === 'RUN').map((ins) => ins.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).to.equal(true);
    expect(runs.some((r) => /\btsc -b\b/.test(r))).to.equal(true);
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).to.equal(true);
  });

  it('every path the build stage copies exists in the repository and is not excluded by .dockerignore', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const must of ['**/node_modules', '**/dist', '.git']) expect(ignored).to.include(must);
    const sources = build
      .filter((ins) => ins.op === 'COPY')
      .flatMap((ins) => ins.args.split(/\s+/).slice(0, -1))
      .filter((s) => !s.startsWith('--'));
    expect(sources).to.include.members(['package.json', 'package-lock.json', 'packages']);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).to.equal(true);
      expect(ignored, s).to.not.include(s);
    }
  });

  it('the runtime stage copies only the build output, runs as a non-root user, entry point `hafence serve`', () => {
    const copies = runtime.filter((ins) => ins.op === 'COPY');
    expect(copies.map((c) => c.args)).to.deep.equal(['--from=build /out /opt/hafence']);
    const users = runtime.filter((ins) => ins.op === 'USER').map((ins) => ins.args);
    expect(users).to.have.length(1);
    expect(users[0]).to.not.match(/^(root|0)(:|$)/);
    const entry = runtime.filter((ins) => ins.op === 'ENTRYPOINT');
    expect(entry.map((e) => JSON.parse(e.args) as unknown)).to.deep.equal([['hafence', 'serve']]);
    expect(runtime.filter((ins) => ins.op === 'EXPOSE').map((e) => e.args)).to.deep.equal(['9440']);
    expect(runtime.filter((ins) => ins.op === 'VOLUME').map((e) => JSON.parse(e.args) as unknown)).to.deep.equal([
      ['/var/lib/hafence'],
    ]);
  });

  it('the `hafence` it links is the CLI package’s bin', () => {
    const cli = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const target = `/opt/hafence/packages/cli/${cli.bin.hafence!.replace(/^\.\//, '')}`;
    expect(
      runtime.some((ins) => ins.op === 'RUN' && ins.args.includes(`ln -s ${target} /usr/local/bin/hafence`)),
    ).to.equal(true);
    expect(existsSync(join(ROOT, 'packages', 'cli', cli.bin.hafence!))).to.equal(true);
    // the bin is executable in a fresh checkout (git mode 755), as the image needs it
    const mode = execFileSync('git', ['ls-files', '-s', 'packages/cli/bin/hafence.js'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(mode.split(' ')[0]).to.equal('100755');
  });
});
