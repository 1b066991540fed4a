import type { HaSettings } from './schema.js';

/**
 * A rule between several HA settings (docs/behaviour.md#scheduling-and-guards), checked on the effective settings of a
 * scope.
 */
export interface SettingsRule {
  /** The field an issue names. */
  readonly field: keyof HaSettings;
  /** Every field the rule reads: a scope that writes none of them inherits its parent's verdict. */
  readonly reads: readonly (keyof HaSettings)[];
  /** The smallest value `field` may have, given the other settings. */
  floor(settings: HaSettings): number;
  /** The rule, in words, with the floor. */
  rule(settings: HaSettings): string;
}

const recoverFloor = (s: HaSettings) => 3 * s.powerOpTimeout + s.powerOffVerifyTimeout;
const fenceFloor = (s: HaSettings) => 2 * s.powerOpTimeout + s.powerOffVerifyTimeout;

/** The cross-field rules of docs/behaviour.md#scheduling-and-guards. */
export const SETTINGS_RULES: readonly SettingsRule[] = [
  {
    field: 'maxActivityCheckInterval',
    reads: ['maxActivityCheckInterval', 'activityCheckInterval'],
    floor: (s) => s.activityCheckInterval,
    rule: (s) => `must be at least activityCheckInterval (${s.activityCheckInterval} ms)`,
  },
  {
    // A quiet period shorter than one health check lets a host be power-cycled again
    // before a single check has seen it come back (hafence issue 8).
    field: 'quietPeriod',
    reads: ['quietPeriod', 'healthCheckInterval'],
    floor: (s) => s.healthCheckInterval,
    rule: (s) => `must be at least healthCheckInterval (${s.healthCheckInterval} ms)`,
  },
  {
    field: 'recoverTimeout',
    reads: ['recoverTimeout', 'powerOpTimeout', 'powerOffVerifyTimeout'],
    floor: recoverFloor,
    rule: (s) =>
      `must be at least 3 × powerOpTimeout + powerOffVerifyTimeout (${recoverFloor(s)} ms: status, off, verify, on)`,
  },
  {
    field: 'fenceTimeout',
    reads: ['fenceTimeout', 'powerOpTimeout', 'powerOffVerifyTimeout'],
    floor: fenceFloor,
    rule: (s) => `must be at least 2 × powerOpTimeout + powerOffVerifyTimeout (${fenceFloor(s)} ms: off, verify)`,
  },
];

/**
 * The rules `settings` break. With `written`, only the rules that read a field written
 * there: the others hold or fail exactly as in the enclosing scope, which reports them.
 */
export function brokenRules(settings: HaSettings, written?: Partial<HaSettings>): SettingsRule[] {
  return SETTINGS_RULES.filter(
    (r) =>
      settings[r.field] < r.floor(settings) && (written === undefined || r.reads.some((f) => written[f] !== undefined)),
  );
}
