import { checkOverrideTargets, readConfigFile, validateConfig, type ConfigTargets } from '@hafence/core';
import { clusterFileSchema, type ClusterFile } from './cluster-schema.js';

/**
 * Validates a cluster file given as data. Throws {@link ConfigError} naming every bad
 * field (`hosts.h2.bmc.port`), its value and the rule — an `ha:` override naming a zone,
 * pod, cluster or host this file does not list too (`ha.hosts.kvm9`); nothing is started.
 *
 * @example
 * const file = parseClusterFile({ agentTokenFile: '/etc/hafence/agent.token', zones: { z1: {} }, … });
 */
export function parseClusterFile(data: unknown): ClusterFile {
  const file = validateConfig(clusterFileSchema, data);
  checkOverrideTargets(file.ha, targetsOf(file), { path: 'ha' });
  return file;
}

/** The partitions and hosts of the file, as the engine will know them. */
function targetsOf(file: ClusterFile): ConfigTargets {
  return {
    partitions: [
      ...Object.keys(file.zones).map((id) => ({ id, kind: 'zone' as const })),
      ...Object.entries(file.pods).map(([id, p]) => ({ id, kind: 'pod' as const, parent: p.zone })),
      ...Object.entries(file.clusters).map(([id, c]) => ({ id, kind: 'cluster' as const, parent: c.pod })),
    ],
    resources: Object.entries(file.hosts).map(([id, h]) => ({ id, partition: h.cluster })),
  };
}

/** Reads a YAML or JSON cluster file (YAML is a superset of JSON) and validates it. */
export function loadClusterFile(path: string): ClusterFile {
  return parseClusterFile(readConfigFile(path));
}
