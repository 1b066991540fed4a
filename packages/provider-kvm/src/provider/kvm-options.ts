import {
  DEFAULT_POWER_POLL_MS,
  ConfigError,
  type Clock,
  type ConfigIssue,
  type Logger,
  type PowerState,
} from '@hafence/core';
import type { AgentConnectivity, KvmInventory, NeighborExecutor, VmVolumeDirectory } from '../ports.js';
import type { ArmRecords } from './arm-records.js';
import { MAX_VOLUMES_PER_READ } from '../agent/volume-activity.js';

/** Options of {@link KvmProvider}. Durations are in ms. */
export interface KvmProviderOptions {
  /** Health check port: the KVM agent's connection to the control plane. */
  readonly agents: AgentConnectivity;
  /** Activity check port: heartbeat reads run on neighbour hosts. */
  readonly neighbors: NeighborExecutor;
  /** KVM facts per host (hypervisor, shared pool mounted, maintenance). */
  readonly inventory: KvmInventory;
  /**
   * The volumes of the VMs running on each host (docs/behaviour.md#kvm-hosts, "VM volume activity"). With it,
   * the activity check also looks for writes to the suspect's VM volumes; without it, the
   * heartbeat alone decides (an agent killed while its VMs run gets the host power-cycled).
   */
  readonly volumes?: VmVolumeDirectory;
  /** Most VM volumes read per activity check, sampled fairly across the VMs (default 32, at most 128). */
  readonly maxVolumesPerCheck?: number;
  /** Shortest gap between two refreshes of a host's volume list (default 60 s). */
  readonly volumeRefreshMs?: number;
  /** Cached power state of a host (e.g. `PowerManagementService.state`); see the README. */
  readonly powerState?: (host: string) => PowerState | undefined;
  /** Defaults to the clock of each call's context (the engine's). */
  readonly clock?: Clock;
  /** Resource type it protects (default `host`). */
  readonly resourceType?: string;
  /** Heartbeat interval of the agents (default 10 s). */
  readonly heartbeatIntervalMs?: number;
  /** Gap between the two heartbeat reads (default 20 s; at least 2 × heartbeat interval). */
  readonly activityWindowMs?: number;
  /** Added to the agent's `selfFenceAfter` before a lease expires (default 30 s). */
  readonly leaseMarginMs?: number;
  /** Reply timeout of every agent request, on top of the read window (default 10 s). */
  readonly replyTimeoutMs?: number;
  /** Interval of status reads while verifying OFF (default 1 s). */
  readonly powerPollMs?: number;
  /**
   * Where arm/disarm decisions are recorded before they are sent (docs/behaviour.md#several-management-servers;
   * default: in memory, so a restarted server proves no lease until it has re-armed the host).
   */
  readonly armRecords?: ArmRecords;
  /** Receives alerts besides {@link KvmProvider.onAlert} listeners (default: the call's logger). */
  readonly logger?: Logger;
}

/** {@link KvmProviderOptions} after defaults and validation. */
export interface KvmProviderConfig {
  readonly resourceType: string;
  readonly heartbeatIntervalMs: number;
  readonly activityWindowMs: number;
  readonly leaseMarginMs: number;
  readonly replyTimeoutMs: number;
  readonly powerPollMs: number;
  readonly maxVolumesPerCheck: number;
  readonly volumeRefreshMs: number;
}

/** Applies defaults and validates; throws `ConfigError` with every broken rule. */
export function kvmProviderConfig(o: KvmProviderOptions): KvmProviderConfig {
  const c: KvmProviderConfig = {
    resourceType: o.resourceType ?? 'host',
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 10_000,
    activityWindowMs: o.activityWindowMs ?? 20_000,
    leaseMarginMs: o.leaseMarginMs ?? 30_000,
    replyTimeoutMs: o.replyTimeoutMs ?? 10_000,
    powerPollMs: o.powerPollMs ?? DEFAULT_POWER_POLL_MS,
    maxVolumesPerCheck: o.maxVolumesPerCheck ?? 32,
    volumeRefreshMs: o.volumeRefreshMs ?? 60_000,
  };
  const issues: ConfigIssue[] = [];
  for (const key of [
    'heartbeatIntervalMs',
    'activityWindowMs',
    'replyTimeoutMs',
    'powerPollMs',
    'volumeRefreshMs',
  ] as const) {
    if (!(Number.isFinite(c[key]) && c[key] > 0))
      issues.push({ path: key, value: c[key], rule: 'must be a positive number of ms' });
  }
  if (!(Number.isFinite(c.leaseMarginMs) && c.leaseMarginMs >= 0))
    issues.push({ path: 'leaseMarginMs', value: c.leaseMarginMs, rule: 'must be ≥ 0 ms' });
  if (
    !(
      Number.isInteger(c.maxVolumesPerCheck) &&
      c.maxVolumesPerCheck >= 1 &&
      c.maxVolumesPerCheck <= MAX_VOLUMES_PER_READ
    )
  ) {
    issues.push({
      path: 'maxVolumesPerCheck',
      value: c.maxVolumesPerCheck,
      rule: `must be an integer from 1 to ${MAX_VOLUMES_PER_READ}`,
    });
  }
  if (c.activityWindowMs < 2 * c.heartbeatIntervalMs) {
    issues.push({
      path: 'activityWindowMs',
      value: c.activityWindowMs,
      rule: 'must be at least 2 × heartbeatIntervalMs (see docs/behaviour.md#kvm-hosts)',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return c;
}
