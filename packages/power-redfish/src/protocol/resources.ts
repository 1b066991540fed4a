import { ProtocolError, type ChassisPower } from '@hafence/core';
import { toRequestPath } from './odata-path.js';
import { isObject, type JsonObject } from './redfish-json.js';

/** The links of a service root (`/redfish/v1`) the driver follows. */
export interface ServiceRoot {
  /** The `Systems` collection. */
  readonly systems: string;
  /** The session collection (`Links.Sessions`), when the service has one. */
  readonly sessions?: string;
}

/** The `ComputerSystem.Reset` action of a system. */
export interface ResetAction {
  /** Where to POST. */
  readonly target: string;
  /** `ResetType@Redfish.AllowableValues`, when the system lists them inline. */
  readonly allowable?: readonly string[];
  /** `@Redfish.ActionInfo`: where the allowable values are listed otherwise. */
  readonly actionInfo?: string;
}

/** What the driver reads from a `ComputerSystem`. */
export interface RedfishSystem {
  /** Its `@odata.id` (or the path it was read from). */
  readonly path: string;
  /** `PowerState` as hafence reads it: only `Off` is OFF. */
  readonly power: ChassisPower;
  /** `PowerState` as the BMC spelled it. */
  readonly powerState: string;
  /** The reset action, when the system has one. */
  readonly reset?: ResetAction;
  /** `@odata.etag`, for `If-Match`. */
  readonly etag?: string;
  /** The identify property the system has, newest first. */
  readonly indicator?: 'LocationIndicatorActive' | 'IndicatorLED';
}

/** A task (`TaskState`, `TaskStatus`) as read from a task monitor or a Task resource. */
export interface RedfishTask {
  readonly state: string;
  readonly status?: string;
}

const RESET = '#ComputerSystem.Reset';
const MAX_MEMBERS = 1024;
const MAX_VALUES = 64;

// PoweringOff is not off yet: only a settled Off proves that nothing runs (docs/behaviour.md#power).
const POWER: Readonly<Record<string, ChassisPower>> = {
  On: 'ON',
  Off: 'OFF',
  PoweringOn: 'ON',
  PoweringOff: 'ON',
  Paused: 'ON',
};

const link = (v: unknown): unknown => (isObject(v) ? v['@odata.id'] : undefined);

/** Reads the service root's `Systems` and session links. */
export function readServiceRoot(doc: JsonObject, host: string): ServiceRoot {
  const systems = toRequestPath(link(doc.Systems), host, 'service root Systems');
  const links = isObject(doc.Links) ? doc.Links : undefined;
  const sessions = link(links?.Sessions);
  return sessions === undefined ? { systems } : { systems, sessions: toRequestPath(sessions, host, 'Links.Sessions') };
}

/** Reads the member links of a collection (`Members[].@odata.id`). */
export function readMembers(doc: JsonObject, host: string, what: string): string[] {
  if (!Array.isArray(doc.Members)) throw new ProtocolError(host, `${what}: no Members array`);
  if (doc.Members.length > MAX_MEMBERS) throw new ProtocolError(host, `${what}: more than ${MAX_MEMBERS} members`);
  return doc.Members.map((m, i) => toRequestPath(link(m), host, `${what} member ${i}`));
}

function stringList(v: unknown, host: string, what: string): string[] {
  if (!Array.isArray(v)) throw new ProtocolError(host, `${what}: not a list`);
  if (v.length > MAX_VALUES) throw new ProtocolError(host, `${what}: more than ${MAX_VALUES} values`);
  return v.filter((s): s is string => typeof s === 'string');
}

function readReset(doc: JsonObject, host: string): ResetAction | undefined {
  const actions = isObject(doc.Actions) ? doc.Actions : undefined;
  const action = actions?.[RESET];
  if (action === undefined) return undefined;
  if (!isObject(action)) throw new ProtocolError(host, `${RESET}: not an object`);
  const target = toRequestPath(action.target, host, `${RESET} target`);
  const values = action['ResetType@Redfish.AllowableValues'];
  const info = action['@Redfish.ActionInfo'];
  return {
    target,
    ...(values === undefined ? {} : { allowable: stringList(values, host, 'ResetType@Redfish.AllowableValues') }),
    ...(info === undefined ? {} : { actionInfo: toRequestPath(info, host, `${RESET} @Redfish.ActionInfo`) }),
  };
}

/** Reads a `ComputerSystem`: power state, reset action, ETag, identify property. */
export function readSystem(doc: JsonObject, host: string, path: string): RedfishSystem {
  const state = doc.PowerState;
  if (typeof state !== 'string') throw new ProtocolError(host, 'system: no PowerState');
  const power = Object.hasOwn(POWER, state) ? POWER[state] : undefined;
  if (!power) throw new ProtocolError(host, `system: unknown PowerState ${JSON.stringify(state.slice(0, 40))}`);
  const own = doc['@odata.id'];
  const etag = doc['@odata.etag'];
  const indicator =
    typeof doc.LocationIndicatorActive === 'boolean'
      ? 'LocationIndicatorActive'
      : typeof doc.IndicatorLED === 'string'
        ? 'IndicatorLED'
        : undefined;
  const reset = readReset(doc, host);
  return {
    path: own === undefined ? path : toRequestPath(own, host, 'system @odata.id'),
    power,
    powerState: state,
    ...(reset ? { reset } : {}),
    ...(typeof etag === 'string' && etag.length > 0 && etag.length <= 256 ? { etag } : {}),
    ...(indicator ? { indicator } : {}),
  };
}

/** Reads the `ResetType` allowable values of an `ActionInfo` resource. */
export function readActionInfo(doc: JsonObject, host: string): string[] {
  if (!Array.isArray(doc.Parameters)) throw new ProtocolError(host, 'ActionInfo: no Parameters array');
  const param = doc.Parameters.find((p) => isObject(p) && p.Name === 'ResetType');
  if (!isObject(param)) throw new ProtocolError(host, 'ActionInfo: no ResetType parameter');
  return stringList(param.AllowableValues, host, 'ActionInfo ResetType AllowableValues');
}

/** Reads a Task (`TaskState`, `TaskStatus`); `undefined` when the document is no task. */
export function readTask(doc: JsonObject, host: string): RedfishTask | undefined {
  if (doc.TaskState === undefined) return undefined;
  if (typeof doc.TaskState !== 'string') throw new ProtocolError(host, 'task: TaskState is not a string');
  return typeof doc.TaskStatus === 'string'
    ? { state: doc.TaskState, status: doc.TaskStatus }
    : { state: doc.TaskState };
}
