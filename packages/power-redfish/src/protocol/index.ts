/**
 * `@hafence/power-redfish/protocol`: the Redfish response readers of the driver, for tools,
 * simulators and fuzzing. Each rejects what it cannot accept with a `ProtocolError`.
 * @packageDocumentation
 */
export { parseRedfishJson, isObject, MAX_BODY_BYTES } from './redfish-json.js';
export type { JsonObject } from './redfish-json.js';
export { toRequestPath } from './odata-path.js';
export { readErrorInfo, describeErrorInfo } from './extended-info.js';
export type { RedfishErrorInfo } from './extended-info.js';
export { readServiceRoot, readMembers, readSystem, readActionInfo, readTask } from './resources.js';
export type { ServiceRoot, ResetAction, RedfishSystem, RedfishTask } from './resources.js';
export { chooseResetType, RESET_TYPES } from './reset-types.js';
