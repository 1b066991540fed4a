import { readConfigFile, validateConfig } from '@hafence/core';
import { clusterFileSchema, type ClusterFile } from './cluster-schema.js';

/**
 * Validates a cluster file given as data. Throws {@link ConfigError} naming every bad
 * field (`hosts.h2.bmc.port`), its value and the rule; nothing is started.
 *
 * @example
 * const file = parseClusterFile({ agentTokenFile: '/etc/hafence/agent.token', zones: { z1: {} }, … });
 */
export function parseClusterFile(data: unknown): ClusterFile {
  return validateConfig(clusterFileSchema, data);
}

/** Reads a YAML or JSON cluster file (YAML is a superset of JSON) and validates it. */
export function loadClusterFile(path: string): ClusterFile {
  return parseClusterFile(readConfigFile(path));
}
