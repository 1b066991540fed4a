/**
 * Stable identifier of an alert (docs/behaviour.md#scenarios): a control plane acts on the code, people read
 * the message (which may change). Providers may raise codes of their own.
 */
export type AlertCode =
  | 'controller-unreachable'
  | 'controller-reachable'
  | 'lease-only'
  | 'not-fenceable'
  | 'left-off'
  | 'reconcile-failed'
  | 'recovery-exhausted'
  | 'fenced'
  | 'fence-failed'
  | 'failed'
  | 'degraded'
  | 'activity-errors'
  | 'storm'
  | 'storm-lifted'
  | 'budget-exhausted'
  | 'storage-failing'
  | 'checker-excluded'
  | 'self-doubt'
  | 'self-doubt-cleared'
  | 'fenced-host-powered-on'
  | 'powered-off-outside'
  /** Observe-only: the fence budget would now hold stop commands (nothing is held for real). */
  | 'would-halt-fencing'
  | (string & {});

/** Severity of an alert. */
export type AlertLevel = 'info' | 'warning' | 'critical';
