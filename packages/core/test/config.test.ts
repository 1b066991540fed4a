import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError, DEFAULT_SETTINGS, loadConfigFile, parseConfig, parseDuration, resolveSettings,
  type ConfigIssue,
} from '@hafence/core';

/** The ConfigError thrown by `fn`. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

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
        recoverTimeout: 60_000,
        recoverRetryDelay: 30_000,
        fenceTimeout: 60_000,
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
      expect(parseConfig({ concurrency: { health: 500 } }).concurrency).to.deep.equal({ health: 500, activity: 25, recover: 10, fence: 10 });
    });
  });

  describe('overrides', () => {
    const config = parseConfig({
      defaults: { quietPeriod: '60s', healthCheckInterval: '20s', recoverTimeout: '90s', fenceTimeout: '70s', stormCooldown: '1m' },
      zones: { z1: { healthCheckInterval: '15s', recoverTimeout: '80s', fenceTimeout: '65s' } },
      pods: { p1: { healthCheckInterval: '12s', recoverTimeout: '75s' } },
      clusters: { c1: { healthCheckInterval: '11s' } },
      hosts: { h1: { healthCheckInterval: '5s', maxRecoveryAttempts: 0 } },
    });

    it('resolves defaults ← global ← zone ← pod ← cluster ← host, the nearest scope winning', () => {
      const full = resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c1', host: 'h1' });
      expect(full).to.include({
        healthCheckInterval: 5_000, // host
        maxRecoveryAttempts: 0, // host
        recoverTimeout: 75_000, // pod
        fenceTimeout: 65_000, // zone
        quietPeriod: 60_000, // global
        stormCooldown: 60_000, // global
        degradedRecheck: 300_000, // SPEC default
      });
      expect(resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c1', host: 'h2' }).healthCheckInterval).to.equal(11_000);
      expect(resolveSettings(config, { zone: 'z1', pod: 'p1', cluster: 'c2' }).healthCheckInterval).to.equal(12_000);
      expect(resolveSettings(config, { zone: 'z1', pod: 'p2' }).healthCheckInterval).to.equal(15_000);
      expect(resolveSettings(config, { zone: 'z2' }).healthCheckInterval).to.equal(20_000);
      expect(resolveSettings(config, {}).recoverTimeout).to.equal(90_000);
    });

    it('applies a host override wherever the host sits', () => {
      expect(resolveSettings(config, { host: 'h1' }).healthCheckInterval).to.equal(5_000);
      expect(resolveSettings(config, { zone: 'z1', host: 'h1' }).recoverTimeout).to.equal(80_000);
    });
  });

  describe('durations', () => {
    it('accepts 250ms, 10s, 5m, 2h and plain milliseconds', () => {
      const config = parseConfig({
        defaults: { healthCheckInterval: '10s', quietPeriod: '5m', powerOpTimeout: 250, recoverRetryDelay: '250ms', fenceWindow: '2h', degradedRecheck: '1.5s' },
      });
      expect(config.defaults).to.deep.equal({
        healthCheckInterval: 10_000, quietPeriod: 300_000, powerOpTimeout: 250, recoverRetryDelay: 250, fenceWindow: 7_200_000, degradedRecheck: 1_500,
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
      const err = (() => { try { parseConfig({ clusters: { c1: { activityCheckInterval: '300s' } } }); } catch (e) { return e as ConfigError; } return undefined; })();
      expect(err).to.be.instanceOf(ConfigError);
      expect(err!.issues[0]).to.deep.include({ path: 'clusters.c1.maxActivityCheckInterval', value: 250_000 });
      expect(() => parseConfig({ clusters: { c1: { activityCheckInterval: '300s', maxActivityCheckInterval: '600s' } } })).to.not.throw();
    });

    it('names the path, the value and the rule of a bad value', () => {
      const err = configError(() => parseConfig({ clusters: { c1: { healthCheckInterval: 'ten' } } }));
      expect(err.issues).to.have.length(1);
      expect(err.issues[0]).to.deep.include({ path: 'clusters.c1.healthCheckInterval', value: 'ten' });
      expect(err.issues[0].rule).to.match(/duration/);
      expect(err.message).to.contain('[HAF2001]').and.contain('clusters.c1.healthCheckInterval').and.contain('"ten"');
    });

    it('reports every bad value at once, with the value as written', () => {
      const err = configError(() => parseConfig({
        defaults: { healthCheckInterval: '50ms', maxRecoveryAttempts: -1, maxUnhealthyFraction: 2 },
        hosts: { h7: { fenceTimeout: -5 } },
        concurrency: { health: 0 },
      }));
      expect(err.issues).to.have.length(5);
      expect(issueAt(err, 'defaults.healthCheckInterval')).to.deep.equal({ path: 'defaults.healthCheckInterval', value: '50ms', rule: 'must be at least 100ms' });
      expect(issueAt(err, 'defaults.maxRecoveryAttempts')).to.include({ value: -1 });
      expect(issueAt(err, 'defaults.maxRecoveryAttempts')!.rule).to.contain('>=0');
      expect(issueAt(err, 'defaults.maxUnhealthyFraction')!.rule).to.contain('<=1');
      expect(issueAt(err, 'hosts.h7.fenceTimeout')).to.include({ value: -5 });
      expect(issueAt(err, 'concurrency.health')).to.include({ value: 0 });
    });

    it('rejects unknown keys at every level, naming the key', () => {
      const top = configError(() => parseConfig({ healthCheckInterval: '10s' }));
      expect(top.issues[0].rule).to.contain('healthCheckInterval');
      const typo = configError(() => parseConfig({ defaults: { healthCheckIntervl: '10s' } }));
      expect(typo.issues[0]).to.include({ path: 'defaults' });
      expect(typo.issues[0].rule).to.contain('healthCheckIntervl');
      const nested = configError(() => parseConfig({ clusters: { c1: { quietPeriod: '1m', bogus: true } } }));
      expect(nested.issues[0]).to.include({ path: 'clusters.c1' });
      expect(nested.issues[0].rule).to.contain('bogus');
      const limits = configError(() => parseConfig({ concurrency: { healt: 5 } }));
      expect(limits.issues[0].rule).to.contain('healt');
    });

    it('checks that the activity backoff cap is not below its start', () => {
      const err = configError(() => parseConfig({ defaults: { activityCheckInterval: '300s' } }));
      expect(err.issues[0]).to.include({ path: 'defaults.maxActivityCheckInterval', value: 250_000 });
      expect(err.issues[0].rule).to.equal('must be at least activityCheckInterval (300000 ms)');
    });

    it('rejects a configuration that is not an object', () => {
      expect(configError(() => parseConfig('healthCheckInterval: 10s')).issues[0].path).to.equal('');
      expect(configError(() => parseConfig([1, 2])).issues).to.have.length.greaterThan(0);
    });
  });

  describe('loadConfigFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hafence-config-'));

    it('loads and validates YAML', () => {
      const file = join(dir, 'ha.yaml');
      writeFileSync(file, [
        'startupGrace: 2m',
        'concurrency:',
        '  health: 200',
        'defaults:',
        '  healthCheckInterval: 5s',
        'clusters:',
        '  c1:',
        '    quietPeriod: 30s',
        '',
      ].join('\n'));
      const config = loadConfigFile(file);
      expect(config.startupGrace).to.equal(120_000);
      expect(config.concurrency.health).to.equal(200);
      expect(resolveSettings(config, { cluster: 'c1' })).to.include({ healthCheckInterval: 5_000, quietPeriod: 30_000 });
    });

    it('loads and validates JSON', () => {
      const file = join(dir, 'ha.json');
      writeFileSync(file, JSON.stringify({ defaults: { fenceTimeout: '90s' }, hosts: { h1: { powerOpTimeout: 5000 } } }));
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
      expect(configError(() => loadConfigFile(file)).issues[0]).to.deep.include({ path: 'clusters.c1.healthCheckInterval', value: 'ten' });
    });

    it('gives a ConfigError for a file that cannot be read', () => {
      const missing = join(dir, 'missing.yaml');
      const err = configError(() => loadConfigFile(missing));
      expect(err.issues[0]).to.include({ path: '(file)', value: missing });
      expect(err.issues[0].rule).to.contain('cannot be read');
      const folder = join(dir, 'a-folder.yaml');
      mkdirSync(folder);
      expect(configError(() => loadConfigFile(folder)).issues[0].rule).to.contain('cannot be read');
    });

    it('gives a ConfigError for text that is not YAML or JSON', () => {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, 'defaults: {healthCheckInterval: 10s\n  quietPeriod: [\n');
      const err = configError(() => loadConfigFile(file));
      expect(err.issues[0]).to.include({ path: '(file)', value: file });
      expect(err.issues[0].rule).to.contain('not valid YAML/JSON');
    });
  });
});
