import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkOverrideTargets,
  ConfigError,
  DEFAULT_SETTINGS,
  loadConfigFile,
  parseConfig,
  parseDuration,
  resolveSettings,
  type ConfigIssue,
  type ConfigTargets,
} from '@hafence/core';
import { configError } from './config-helpers.js';

const issueAt = (err: ConfigError, path: string): ConfigIssue | undefined => err.issues.find((i) => i.path === path);

describe('configuration', () => {
  describe('defaults (SPEC §4)', () => {
    it('fills every HA setting with the SPEC default', () => {
      const settings = resolveSettings(parseConfig({}), {});
      expect(settings).to.deep.equal(DEFAULT_SETTINGS);
      expect(settings).to.include({
        healthCheckInterval: 10_000,
        healthCheckTimeout: 10_000,
        activityCheckInterval: 10_000,
        maxActivityCheckInterval: 250_000,
        activityCheckTimeout: 60_000,
        inactiveChecksToRecover: 2,
        maxActivityChecks: 5,
        degradedRecheck: 300_000,
        maxActivityCheckErrors: 5,
        maxRecoveryAttempts: 2,
        recoverTimeout: 120_000,
        recoverRetryDelay: 30_000,
        fenceTimeout: 90_000,
        powerOpTimeout: 20_000,
        powerOffVerifyTimeout: 20_000,
        powerReadsToUnknown: 3,
        quietPeriod: 120_000,
        maxFencesPerWindow: 3,
        fenceWindow: 3_600_000,
        maxUnhealthyFraction: 0.5,
        stormCooldown: 300_000,
      });
    });

    it('fills the service-wide settings: concurrency 50/25/10/10, startup grace, global fence cap, self-doubt sample', () => {
      const config = parseConfig();
      expect(config.concurrency).to.deep.equal({ health: 50, activity: 25, recover: 10, fence: 10 });
      expect(config).to.include({ startupGrace: 300_000, globalMaxFencesPerWindow: 10, selfDoubtMinSample: 8 });
      expect(config.maxQueued).to.be.a('number').and.greaterThan(0);
      expect(config).to.deep.include({ defaults: {}, zones: {}, pods: {}, clusters: {}, hosts: {} });
    });

    it('keeps the other concurrency defaults when only one limit is given', () => {
      expect(parseConfig({ concurrency: { health: 500 } }).concurrency).to.deep.equal({
        health: 500,
        activity: 25,
        recover: 10,
        fence: 10,
      });
    });
  });

  describe('overrides', () => {
    const config = parseConfig({
      defaults: {
        quietPeriod: '60s',
        healthCheckInterval: '20s',
        recoverTimeout: '90s',
        fenceTimeout: '70s',
        stormCooldown: '1m',
      },
      zones: { z1: { healthCheckInterval: '15s', recoverTimeout: '85s', fenceTimeout: '65s' } },
      pods: { p1: { healthCheckInterval: '12s', recoverTimeout: '82s' } },
      clusters: { c1: { healthCheckInterval: '11s' } },
      hosts: { h1: { healthCheckInterval: '5s', maxRecoveryAttempts: 0 } },
    });

    it('resolves defaults ← global ← zone ← pod ← cluster ← host, the nearest scope winning', () => {
      const full = resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c1', host: 'h1' });
      expect(full).to.include({
        healthCheckInterval: 5_000, // host
        maxRecoveryAttempts: 0, // host
        recoverTimeout: 82_000, // pod
        fenceTimeout: 65_000, // zone
        quietPeriod: 60_000, // global
        stormCooldown: 60_000, // global
        degradedRecheck: 300_000, // SPEC default
      });
      expect(
        resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c1', host: 'h2' }).healthCheckInterval,
      ).to.equal(11_000);
      expect(resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c2' }).healthCheckInterval).to.equal(12_000);
      expect(resolveSettings(config, { zone: 'z1', pod: 'p2' }).healthCheckInterval).to.equal(15_000);
      expect(resolveSettings(config, { zone: 'z2' }).healthCheckInterval).to.equal(20_000);
      expect(resolveSettings(config, {}).recoverTimeout).to.equal(90_000);
    });

    it('applies a host override wherever the host sits', () => {
      expect(resolveSettings(config, { host: 'h1' }).healthCheckInterval).to.equal(5_000);
      expect(resolveSettings(config, { zone: 'z1', host: 'h1' }).recoverTimeout).to.equal(85_000);
    });
  });

  describe('durations', () => {
    it('accepts 250ms, 10s, 5m, 2h and plain milliseconds', () => {
      const config = parseConfig({
        defaults: {
          healthCheckInterval: '10s',
          quietPeriod: '5m',
          powerOpTimeout: 250,
          recoverRetryDelay: '250ms',
          fenceWindow: '2h',
          degradedRecheck: '1.5s',
        },
      });
      expect(config.defaults).to.deep.equal({
        healthCheckInterval: 10_000,
        quietPeriod: 300_000,
        powerOpTimeout: 250,
        recoverRetryDelay: 250,
        fenceWindow: 7_200_000,
        degradedRecheck: 1_500,
      });
      expect(parseConfig({ startupGrace: '0s' }).startupGrace).to.equal(0);
    });

    it('parseDuration answers NaN for malformed text', () => {
      expect(parseDuration('10s')).to.equal(10_000);
      expect(parseDuration(' 5 m ')).to.equal(300_000);
      expect(parseDuration(42)).to.equal(42);
      for (const bad of ['ten', '10', '10d', '', 's', '-1s']) expect(parseDuration(bad), bad).to.be.NaN;
    });
  });

  describe('validation', () => {
    it('checks the activity-interval cap in every override scope, naming the effective value', () => {
      const err = (() => {
        try {
          parseConfig({ clusters: { c1: { activityCheckInterval: '300s' } } });
        } catch (e) {
          return e as ConfigError;
        }
        return undefined;
      })();
      expect(err).to.be.instanceOf(ConfigError);
      expect(err!.issues[0]).to.deep.include({ path: 'clusters.c1.maxActivityCheckInterval', value: 250_000 });
      expect(() =>
        parseConfig({ clusters: { c1: { activityCheckInterval: '300s', maxActivityCheckInterval: '600s' } } }),
      ).to.not.throw();
    });

    it('names the path, the value and the rule of a bad value', () => {
      const err = configError(() => parseConfig({ clusters: { c1: { healthCheckInterval: 'ten' } } }));
      expect(err.issues).to.have.length(1);
      expect(err.issues[0]).to.deep.include({ path: 'clusters.c1.healthCheckInterval', value: 'ten' });
      expect(err.issues[0]?.rule).to.match(/duration/);
      expect(err.message).to.contain('[HAF2001]').and.contain('clusters.c1.healthCheckInterval').and.contain('"ten"');
    });

    it('reports every bad value at once, with the value as written', () => {
      const err = configError(() =>
        parseConfig({
          defaults: { healthCheckInterval: '50ms', maxRecoveryAttempts: -1, maxUnhealthyFraction: 2 },
          hosts: { h7: { fenceTimeout: -5 } },
          concurrency: { health: 0 },
        }),
      );
      expect(err.issues).to.have.length(5);
      expect(issueAt(err, 'defaults.healthCheckInterval')).to.deep.equal({
        path: 'defaults.healthCheckInterval',
        value: '50ms',
        rule: 'must be at least 100ms',
      });
      expect(issueAt(err, 'defaults.maxRecoveryAttempts')).to.include({ value: -1 });
      expect(issueAt(err, 'defaults.maxRecoveryAttempts')!.rule).to.contain('>=0');
      expect(issueAt(err, 'defaults.maxUnhealthyFraction')!.rule).to.contain('<=1');
      expect(issueAt(err, 'hosts.h7.fenceTimeout')).to.include({ value: -5 });
      expect(issueAt(err, 'concurrency.health')).to.include({ value: 0 });
    });

    it('rejects unknown keys at every level, naming the key', () => {
      const top = configError(() => parseConfig({ healthCheckInterval: '10s' }));
      expect(top.issues[0]?.rule).to.contain('healthCheckInterval');
      const typo = configError(() => parseConfig({ defaults: { healthCheckIntervl: '10s' } }));
      expect(typo.issues[0]).to.include({ path: 'defaults' });
      expect(typo.issues[0]?.rule).to.contain('healthCheckIntervl');
      const nested = configError(() => parseConfig({ clusters: { c1: { quietPeriod: '1m', bogus: true } } }));
      expect(nested.issues[0]).to.include({ path: 'clusters.c1' });
      expect(nested.issues[0]?.rule).to.contain('bogus');
      const limits = configError(() => parseConfig({ concurrency: { healt: 5 } }));
      expect(limits.issues[0]?.rule).to.contain('healt');
    });

    it('checks that the activity backoff cap is not below its start', () => {
      const err = configError(() => parseConfig({ defaults: { activityCheckInterval: '300s' } }));
      expect(err.issues[0]).to.include({ path: 'defaults.maxActivityCheckInterval', value: 250_000 });
      expect(err.issues[0]?.rule).to.equal('must be at least activityCheckInterval (300000 ms)');
    });

    it('rejects a configuration that is not an object', () => {
      expect(configError(() => parseConfig('healthCheckInterval: 10s')).issues[0]?.path).to.equal('');
      expect(configError(() => parseConfig([1, 2])).issues).to.have.length.greaterThan(0);
    });
  });

  describe('bounds (SPEC §4: every value is bounded)', () => {
    const rulesAt = (err: ConfigError, path: string) => err.issues.filter((i) => i.path === path).map((i) => i.rule);

    it('refuses a zero timeout, interval or period, naming the field', () => {
      for (const field of [
        'healthCheckTimeout',
        'activityCheckTimeout',
        'recoverTimeout',
        'fenceTimeout',
        'quietPeriod',
        'powerOpTimeout',
        'powerOffVerifyTimeout',
        'activityCheckInterval',
        'degradedRecheck',
        'leaseWaitMax',
        'fenceWindow',
      ] as const) {
        const err = configError(() => parseConfig({ defaults: { [field]: 0 } }));
        expect(issueAt(err, `defaults.${field}`), field).to.include({ value: 0 });
        expect(rulesAt(err, `defaults.${field}`), field).to.include('must be more than 0');
      }
      expect(
        issueAt(
          configError(() => parseConfig({ hosts: { h1: { fenceTimeout: '0s' } } })),
          'hosts.h1.fenceTimeout',
        ),
      ).to.include({ value: '0s' });
    });

    it('refuses negative values and counts below their minimum', () => {
      expect(
        issueAt(
          configError(() => parseConfig({ defaults: { healthCheckTimeout: -10_000 } })),
          'defaults.healthCheckTimeout',
        ),
      ).to.include({ value: -10_000 });
      for (const field of [
        'inactiveChecksToRecover',
        'maxActivityChecks',
        'maxActivityCheckErrors',
        'powerReadsToUnknown',
      ] as const) {
        const err = configError(() => parseConfig({ clusters: { c1: { [field]: 0 } } }));
        expect(issueAt(err, `clusters.c1.${field}`), field).to.include({ value: 0 });
        expect(issueAt(err, `clusters.c1.${field}`)!.rule, field).to.contain('>=1');
      }
      expect(
        issueAt(
          configError(() => parseConfig({ defaults: { maxUnhealthyFraction: 0 } })),
          'defaults.maxUnhealthyFraction',
        )!.rule,
      ).to.contain('>0');
      expect(
        issueAt(
          configError(() => parseConfig({ selfDoubtMinSample: 0 })),
          'selfDoubtMinSample',
        ),
      ).to.include({ value: 0 });
    });

    it('refuses values over their maximum: durations over a day, counts over 1000', () => {
      const err = configError(() =>
        parseConfig({
          startupGrace: '25h',
          powerSyncInterval: '2h',
          defaults: {
            activityCheckTimeout: '24h',
            recoverTimeout: '86400001',
            inactiveChecksToRecover: 1001,
            stormCooldown: '1441m',
          },
          pods: { p1: { powerReadsToUnknown: 5000, maxFencesPerWindow: 1001 } },
          concurrency: { health: 10_001 },
          maxQueued: 10_000_001,
        }),
      );
      expect(err.issues.map((i) => i.path).sort()).to.deep.equal([
        'concurrency.health',
        'defaults.inactiveChecksToRecover',
        'defaults.recoverTimeout',
        'defaults.stormCooldown',
        'maxQueued',
        'pods.p1.maxFencesPerWindow',
        'pods.p1.powerReadsToUnknown',
        'startupGrace',
      ]);
      expect(issueAt(err, 'startupGrace')).to.deep.equal({
        path: 'startupGrace',
        value: '25h',
        rule: 'must be at most 24h',
      });
      expect(issueAt(err, 'defaults.inactiveChecksToRecover')!.rule).to.contain('<=1000');
    });

    it('refuses a quietPeriod shorter than healthCheckInterval in every scope, naming the effective value', () => {
      // Issue 8: quietPeriod 0 with inactiveChecksToRecover 1 gave a host 3 power cycles in 2 minutes.
      const zero = configError(() => parseConfig({ defaults: { quietPeriod: 0, inactiveChecksToRecover: 1 } }));
      expect(zero.issues).to.deep.equal([{ path: 'defaults.quietPeriod', value: 0, rule: 'must be more than 0' }]);
      const short = configError(() => parseConfig({ defaults: { quietPeriod: '5s', inactiveChecksToRecover: 1 } }));
      expect(rulesAt(short, 'defaults.quietPeriod')).to.deep.equal(['must be at least healthCheckInterval (10000 ms)']);
      const raised = configError(() => parseConfig({ clusters: { c1: { healthCheckInterval: '3m' } } }));
      expect(raised.issues).to.deep.equal([
        { path: 'clusters.c1.quietPeriod', value: 120_000, rule: 'must be at least healthCheckInterval (180000 ms)' },
      ]);
      const lowered = configError(() =>
        parseConfig({ defaults: { healthCheckInterval: '20s' }, hosts: { h2: { quietPeriod: '15s' } } }),
      );
      expect(lowered.issues).to.deep.equal([
        { path: 'hosts.h2.quietPeriod', value: 15_000, rule: 'must be at least healthCheckInterval (20000 ms)' },
      ]);
      expect(() => parseConfig({ clusters: { c1: { healthCheckInterval: '3m', quietPeriod: '3m' } } })).to.not.throw();
    });

    it('refuses a recoverTimeout or fenceTimeout below its floor when a scope raises powerOpTimeout', () => {
      const err = configError(() => parseConfig({ zones: { z1: { powerOpTimeout: '40s' } } }));
      expect(err.issues).to.have.length(2);
      expect(issueAt(err, 'zones.z1.recoverTimeout')).to.include({ value: 120_000 });
      expect(issueAt(err, 'zones.z1.recoverTimeout')!.rule).to.contain(
        '3 × powerOpTimeout + powerOffVerifyTimeout (140000 ms',
      );
      expect(issueAt(err, 'zones.z1.fenceTimeout')).to.include({ value: 90_000 });
      expect(issueAt(err, 'zones.z1.fenceTimeout')!.rule).to.contain(
        '2 × powerOpTimeout + powerOffVerifyTimeout (100000 ms',
      );
      const verify = configError(() => parseConfig({ defaults: { fenceTimeout: '59s' } }));
      expect(issueAt(verify, 'defaults.fenceTimeout')).to.include({ value: 59_000 });
      expect(() =>
        parseConfig({ zones: { z1: { powerOpTimeout: '40s', recoverTimeout: '140s', fenceTimeout: '100s' } } }),
      ).to.not.throw();
      expect(() => parseConfig({ defaults: { recoverTimeout: '80s', fenceTimeout: '60s' } })).to.not.throw();
    });

    it('reports a rule broken by the global settings once, not again in every override scope', () => {
      const err = configError(() =>
        parseConfig({
          defaults: { quietPeriod: '5s' },
          clusters: { c1: { maxRecoveryAttempts: 1 }, c2: { quietPeriod: '1s' } },
        }),
      );
      expect(err.issues.map((i) => i.path)).to.deep.equal(['defaults.quietPeriod', 'clusters.c2.quietPeriod']);
    });
  });

  describe('checkOverrideTargets', () => {
    const targets: ConfigTargets = {
      partitions: [
        { id: 'z1', kind: 'zone' },
        { id: 'p1', kind: 'pod', parent: 'z1' },
        { id: 'c1', kind: 'cluster', parent: 'p1' },
        { id: 'c2', kind: 'cluster', parent: 'p1' },
      ],
      resources: [
        { id: 'h1', partition: 'c1' },
        { id: 'h2', partition: 'c2' },
      ],
    };

    it('accepts overrides of partitions and hosts that exist', () => {
      const config = parseConfig({
        zones: { z1: {} },
        pods: { p1: {} },
        clusters: { c1: {}, c2: {} },
        hosts: { h1: {}, h2: {} },
      });
      expect(() => checkOverrideTargets(config, targets)).to.not.throw();
    });

    it('names every override whose zone, pod, cluster or host does not exist, under the given path', () => {
      const config = parseConfig({
        zones: { z2: {} },
        pods: { c1: {} },
        clusters: { c1: {}, c9: { quietPeriod: '3m' } },
        hosts: { h9: {} },
      });
      const err = configError(() => checkOverrideTargets(config, targets, { path: 'ha' }));
      expect(err.issues).to.deep.equal([
        { path: 'ha.zones.z2', value: 'z2', rule: 'must name an existing zone' },
        { path: 'ha.pods.c1', value: 'c1', rule: 'must name an existing pod' },
        { path: 'ha.clusters.c9', value: 'c9', rule: 'must name an existing cluster' },
        { path: 'ha.hosts.h9', value: 'h9', rule: 'must name an existing host (resource)' },
      ]);
      expect(err.code).to.equal('HAF2001');
    });

    it('checks the rules on the effective settings of each lineage, where several scopes combine', () => {
      // Each override alone is valid on top of the global settings; together they are not.
      const config = parseConfig({
        zones: { z1: { quietPeriod: '30s' } },
        clusters: { c1: { healthCheckInterval: '1m' } },
      });
      const err = configError(() => checkOverrideTargets(config, targets));
      expect(err.issues).to.have.length(1);
      expect(err.issues[0]).to.include({ path: 'clusters.c1.quietPeriod', value: 30_000 });
      expect(err.issues[0]?.rule).to.contain('(60000 ms)');
      const power = parseConfig({ pods: { p1: { recoverTimeout: '100s' } }, hosts: { h2: { powerOpTimeout: '30s' } } });
      expect(
        configError(() => checkOverrideTargets(power, targets)).issues.map((i) => [i.path, i.value]),
      ).to.deep.equal([['hosts.h2.recoverTimeout', 100_000]]);
    });
  });

  describe('loadConfigFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hafence-config-'));

    it('loads and validates YAML', () => {
      const file = join(dir, 'ha.yaml');
      writeFileSync(
        file,
        [
          'startupGrace: 2m',
          'concurrency:',
          '  health: 200',
          'defaults:',
          '  healthCheckInterval: 5s',
          'clusters:',
          '  c1:',
          '    quietPeriod: 30s',
          '',
        ].join('\n'),
      );
      const config = loadConfigFile(file);
      expect(config.startupGrace).to.equal(120_000);
      expect(config.concurrency.health).to.equal(200);
      expect(resolveSettings(config, { cluster: 'c1' })).to.include({
        healthCheckInterval: 5_000,
        quietPeriod: 30_000,
      });
    });

    it('loads and validates JSON', () => {
      const file = join(dir, 'ha.json');
      writeFileSync(
        file,
        JSON.stringify({ defaults: { fenceTimeout: '90s' }, hosts: { h1: { powerOpTimeout: 5000 } } }),
      );
      const config = loadConfigFile(file);
      expect(resolveSettings(config, { host: 'h1' })).to.include({ fenceTimeout: 90_000, powerOpTimeout: 5_000 });
    });

    it('treats an empty file as the defaults', () => {
      const file = join(dir, 'empty.yaml');
      writeFileSync(file, '');
      expect(loadConfigFile(file).concurrency.health).to.equal(50);
    });

    it('names the field of a bad value in a file', () => {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'clusters:\n  c1:\n    healthCheckInterval: ten\n');
      expect(configError(() => loadConfigFile(file)).issues[0]).to.deep.include({
        path: 'clusters.c1.healthCheckInterval',
        value: 'ten',
      });
    });

    it('gives a ConfigError for a file that cannot be read', () => {
      const missing = join(dir, 'missing.yaml');
      const err = configError(() => loadConfigFile(missing));
      expect(err.issues[0]).to.include({ path: '(file)', value: missing });
      expect(err.issues[0]?.rule).to.contain('cannot be read');
      const folder = join(dir, 'a-folder.yaml');
      mkdirSync(folder);
      expect(configError(() => loadConfigFile(folder)).issues[0]?.rule).to.contain('cannot be read');
    });

    it('gives a ConfigError for text that is not YAML or JSON', () => {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, 'defaults: {healthCheckInterval: 10s\n  quietPeriod: [\n');
      const err = configError(() => loadConfigFile(file));
      expect(err.issues[0]).to.include({ path: '(file)', value: file });
      expect(err.issues[0]?.rule).to.contain('not valid YAML/JSON');
    });
  });

  it('servers.actBound below the longest powerOpTimeout of any scope is refused, naming the field', () => {
    for (const [config, longest] of [
      [{ servers: { actBound: '0s' } }, 20_000],
      [{ servers: { actBound: '25s' }, hosts: { h1: { powerOpTimeout: '30s' } } }, 30_000],
    ] as const) {
      const err = (() => {
        try {
          parseConfig(config);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path)).to.deep.equal(['servers.actBound']);
      expect((err as ConfigError).issues[0]!.rule).to.contain(`${longest} ms`);
    }
    expect(parseConfig({ servers: { actBound: '20s' } }).servers.actBound).to.equal(20_000);
  });
});
