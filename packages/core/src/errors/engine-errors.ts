import { HaError } from './ha-error.js';

/** One rule a configuration value broke. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `clusters.c1.healthCheckInterval`. */
  readonly path: string;
  /** The value that was given (secrets are never config values). */
  readonly value: unknown;
  /** The rule it broke. */
  readonly rule: string;
}

/** Configuration was invalid; nothing was started. */
export class ConfigError extends HaError {
  /** Builds the error from every issue found. */
  constructor(readonly issues: readonly ConfigIssue[]) {
    super('HAF2001', `invalid configuration: ${issues.map(formatIssue).join('; ')}`);
  }
}

/**
 * At most this many characters of a value reach a message (docs/behaviour.md#configuration), whoever built the issue.
 */
const MAX_SHOWN = 80;

function formatIssue(issue: ConfigIssue): string {
  const shown = safeJson(issue.value);
  return `${cut(issue.path || '(root)')} = ${shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown}: ${issue.rule}`;
}

function cut(text: string): string {
  return text.length > 2 * MAX_SHOWN ? `${text.slice(0, 2 * MAX_SHOWN)}…` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A resource, partition, provider or driver that the service does not know. */
export class NotFoundError extends HaError {
  /** Builds the error for a missing `what` named `id`. */
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super('HAF2002', `unknown ${what} '${id}'`);
  }
}

/** The fence budget is exhausted; the stop command is held, not sent. */
export class FencingHaltedError extends HaError {
  /** Builds the error for `scope` (a partition id or `global`). */
  constructor(
    readonly scope: string,
    readonly reason: string,
  ) {
    super('HAF2003', `fencing halted for ${scope}: ${reason}`);
  }
}

/** A request that contradicts the current state (e.g. removing a partition that still has resources). */
export class InvalidRequestError extends HaError {
  /** Builds the error with what was wrong. */
  constructor(detail: string) {
    super('HAF2004', detail);
  }
}

/** A scheduled action was aborted (timeout, cancellation, shutdown). */
export class AbortedError extends HaError {
  /** Builds the error with why it was aborted. */
  constructor(readonly reason: string) {
    super('HAF2005', `aborted: ${reason}`);
  }
}

/** A provider answered something its contract does not allow (e.g. a verdict without `ok`). */
export class ProviderContractError extends HaError {
  /** Builds the error naming the provider's resource type, the call and what was wrong. */
  constructor(
    readonly resourceType: string,
    readonly call: string,
    detail: string,
  ) {
    super('HAF2006', `provider '${resourceType}' broke its contract in ${call}: ${detail}`);
  }
}

/** A fenced write or command found the partition's lease gone: this server no longer owns it. */
export class LeaseLostError extends HaError {
  /** Builds the error for `partition`, with what was found instead. */
  constructor(
    readonly partition: string,
    detail: string,
  ) {
    super('HAF2007', `lease of partition '${partition}' lost: ${detail}`);
  }
}

/**
 * Several servers (docs/behaviour.md#several-servers): an operator action names a partition (or a resource of one)
 * that another server runs; nothing was written. Ask the owner, `owner` when this server knows it.
 */
export class NotOwnerError extends HaError {
  /** Builds the error for `partition`, naming its owner's server id when known. */
  constructor(
    readonly partition: string,
    readonly owner?: string,
  ) {
    super(
      'HAF2008',
      `partition '${partition}' is not run by this server${owner === undefined ? '' : `; its owner is '${owner}'`}: nothing written`,
    );
  }
}
