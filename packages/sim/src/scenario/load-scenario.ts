import { checkOverrideTargets, ConfigError, haConfigSchema, readConfigFile, validateConfig } from '@hafence/core';
import { simTargets } from '../kvm/create-sim-kvm-env.js';
import { ScenarioError } from './scenario-error.js';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

/**
 * Validates a scenario given as data. Throws {@link ScenarioError} naming every bad
 * field (`steps.2.host`, `config.clusters.c1.quietPeriod`, `config.hosts.h9`), its
 * value and the rule: `config` is checked against core's schema and its overrides
 * against the scenario's partitions z1/p1/c1 and hosts h1..hN.
 *
 * @example
 * const s = parseScenario({ name: 'crash', hosts: 3, steps: [{ at: '5m', do: 'crash', host: 'h2' }], run: '30m' });
 */
export function parseScenario(data: unknown, source = '(inline)'): Scenario {
  return asScenarioError(source, () => {
    const scenario = validateConfig(scenarioSchema, data);
    const config = validateConfig(haConfigSchema, scenario.config, { path: 'config' });
    checkOverrideTargets(config, simTargets(scenario.hosts, scenario.clusters), { path: 'config' });
    return scenario;
  });
}

/** Reads a YAML or JSON scenario file and validates it. */
export function loadScenarioFile(path: string): Scenario {
  return parseScenario(
    asScenarioError(path, () => readConfigFile(path)),
    path,
  );
}

function asScenarioError<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new ScenarioError(source, err.issues, { cause: err });
    throw err;
  }
}
