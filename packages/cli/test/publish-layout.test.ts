import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What a user meets after `npm install` / `npm publish`: the tarball of every publishable
// package, the workspace graph without cycles, and `npx hafence` from the repository root.

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, { types: string; default: string }>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The repository root: the first ancestor holding a package.json with workspaces. */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && 'workspaces' in (JSON.parse(readFileSync(pkg, 'utf8')) as object)) return dir;
    if (dirname(dir) === dir) throw new Error('no repository root above this test');
  }
}

const root = repoRoot();
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
const workspaces = rootManifest.workspaces.map((dir) => ({
  dir: join(root, dir),
  pkg: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest,
}));
const publishable = workspaces.filter((w) => !w.pkg.private);
const strip = (p: string): string => p.replace(/^\.\//, '');

describe('publishable packages (npm pack --dry-run)', function () {
  this.timeout(120_000);

  it('every workspace package except the private fuzz helpers is publishable', () => {
    expect(publishable.map((w) => w.pkg.name).sort()).to.deep.equal([
      '@hafence/cli',
      '@hafence/core',
      '@hafence/operator',
      '@hafence/power-ipmi',
      '@hafence/power-redfish',
      '@hafence/power-script',
      '@hafence/provider-kvm',
      '@hafence/sim',
      '@hafence/store-typeorm',
      '@hafence/testkit',
    ]);
    expect(workspaces.filter((w) => w.pkg.private).map((w) => w.pkg.name)).to.deep.equal(['@hafence/fuzz-helpers']);
  });

  for (const { dir, pkg } of publishable) {
    describe(pkg.name, () => {
      let files: string[] = [];
      before(() => {
        const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
          cwd: dir,
          encoding: 'utf8',
        });
        files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
      });

      it('ships dist/index.js, dist/index.d.ts, README.md, LICENSE and package.json', () => {
        expect(files).to.include.members(['dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'package.json']);
      });

      it('ships no build info, compiled tests, test sources or TypeScript sources', () => {
        const bad = files.filter((f) => /\.tsbuildinfo$|^dist-test\/|^test\/|^src\/|^bench\/|\.test\.(js|ts)$/.test(f));
        expect(bad).to.deep.equal([]);
      });

      it('source maps carry their sources (src/ is not shipped); no declaration maps to missing sources', () => {
        const maps = files.filter((f) => f.endsWith('.js.map'));
        expect(maps.length).to.be.greaterThan(0);
        for (const m of maps) {
          const map = JSON.parse(readFileSync(join(dir, m), 'utf8')) as {
            sources: string[];
            sourcesContent?: string[];
          };
          expect(map.sourcesContent?.length, m).to.equal(map.sources.length);
        }
        expect(files.filter((f) => f.endsWith('.d.ts.map'))).to.deep.equal([]);
      });

      it('main, types, every export and every bin point at shipped files', () => {
        const targets = [
          pkg.main,
          pkg.types,
          ...Object.values(pkg.exports ?? {}).flatMap((e) => [e.types, e.default]),
          ...Object.values(pkg.bin ?? {}),
        ]
          .filter((t): t is string => t !== undefined)
          .map(strip);
        expect(targets.length).to.be.greaterThan(0);
        expect(targets.filter((t) => !files.includes(t))).to.deep.equal([]);
      });

      it('is Apache-2.0 with the root LICENSE', () => {
        expect(pkg.license).to.equal('Apache-2.0');
        expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).to.equal(readFileSync(join(root, 'LICENSE'), 'utf8'));
      });
    });
  }

  it('plugins take @hafence/core as a peer dependency, never as a dependency', () => {
    for (const name of [
      '@hafence/operator',
      '@hafence/power-ipmi',
      '@hafence/power-redfish',
      '@hafence/power-script',
      '@hafence/provider-kvm',
      '@hafence/sim',
      '@hafence/testkit',
    ]) {
      const pkg = workspaces.find((w) => w.pkg.name === name)!.pkg;
      expect(pkg.peerDependencies?.['@hafence/core'], name).to.be.a('string');
      expect(pkg.dependencies?.['@hafence/core'], name).to.equal(undefined);
    }
  });
});

describe('workspace package graph', () => {
  const names = new Set(workspaces.map((w) => w.pkg.name));
  const edges = new Map(
    workspaces.map((w) => [
      w.pkg.name,
      Object.keys({
        ...w.pkg.dependencies,
        ...w.pkg.devDependencies,
        ...w.pkg.peerDependencies,
      }).filter((d) => names.has(d)),
    ]),
  );

  it('has no cycle (dependencies, devDependencies and peerDependencies)', () => {
    const cycles: string[] = [];
    const visit = (name: string, path: string[]): void => {
      if (path.includes(name)) {
        cycles.push([...path.slice(path.indexOf(name)), name].join(' -> '));
        return;
      }
      for (const next of edges.get(name) ?? []) visit(next, [...path, name]);
    };
    for (const name of names) visit(name, []);
    expect(cycles).to.deep.equal([]);
  });

  it('the CLI depends on @hafence/sim, not on @hafence/testkit', () => {
    const cli = workspaces.find((w) => w.pkg.name === '@hafence/cli')!.pkg;
    expect(cli.dependencies).to.have.property('@hafence/sim');
    expect(cli.dependencies).to.not.have.property('@hafence/testkit');
  });
});

describe('npx hafence from the repository root', function () {
  this.timeout(60_000);

  it("the bin npm links is a committed file, so a fresh clone's npm install links it before any build", () => {
    const link = join(root, 'node_modules', '.bin', 'hafence');
    expect(realpathSync(link)).to.equal(realpathSync(join(root, 'packages', 'cli', 'bin', 'hafence.js')));
    const tracked = execFileSync('git', ['ls-files', 'packages/cli/bin/hafence.js'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    expect(tracked).to.equal('packages/cli/bin/hafence.js');
  });

  it('npx --no-install hafence --help prints the usage', () => {
    const out = execFileSync('npx', ['--no-install', 'hafence', '--help'], { cwd: root, encoding: 'utf8' });
    expect(out).to.match(/^Usage: hafence /);
  });
});

describe('entry points import no test framework', () => {
  const byName = new Map(workspaces.map((w) => [w.pkg.name, w]));

  /** The compiled file a specifier of a workspace package resolves to, or undefined for a third-party package. */
  const resolveWorkspace = (spec: string): string | undefined => {
    const m = /^(@hafence\/[^/]+)(\/.*)?$/.exec(spec);
    const w = m ? byName.get(m[1]!) : undefined;
    if (!m || !w) return undefined;
    const entry = w.pkg.exports?.[m[2] ? `.${m[2]}` : '.'];
    if (!entry) throw new Error(`${spec}: no such export`);
    return join(w.dir, entry.default);
  };

  /** Every bare specifier reached from `file` through relative and workspace imports (static and dynamic). */
  const reach = (file: string, seen = new Set<string>(), bare = new Set<string>()): Set<string> => {
    if (seen.has(file)) return bare;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) reach(join(dirname(file), spec), seen, bare);
      else {
        bare.add(spec);
        const target = resolveWorkspace(spec);
        if (target) reach(target, seen, bare);
      }
    }
    return bare;
  };
  const frameworks = (bare: Set<string>): string[] =>
    [...bare].filter((s) => /^(chai|mocha|fast-check|sinon)(\/|$)/.test(s));

  it('@hafence/testkit imports neither a test framework nor provider-kvm nor power-ipmi', () => {
    const bare = reach(resolveWorkspace('@hafence/testkit')!);
    expect(frameworks(bare)).to.deep.equal([]);
    expect([...bare].filter((s) => /^@hafence\/(provider-kvm|power-ipmi|sim)/.test(s))).to.deep.equal([]);
  });

  it('@hafence/testkit/mocha is where chai comes in', () => {
    expect(frameworks(reach(resolveWorkspace('@hafence/testkit/mocha')!))).to.include('chai');
  });

  it('@hafence/sim, @hafence/core and the whole CLI (bin and library) import no test framework', () => {
    for (const spec of ['@hafence/sim', '@hafence/core', '@hafence/cli'])
      expect(frameworks(reach(resolveWorkspace(spec)!)), spec).to.deep.equal([]);
    const bin = join(byName.get('@hafence/cli')!.dir, 'dist', 'bin.js');
    const bare = reach(bin);
    expect(frameworks(bare)).to.deep.equal([]);
    expect(bare.has('@hafence/sim')).to.equal(true);
    expect([...bare].filter((s) => s.startsWith('@hafence/testkit/'))).to.deep.equal([]);
  });
});
