/**
 * `@hafence/power-ipmi`: the native IPMI 2.0 / RMCP+ power driver. Codecs for
 * simulators and tools are under the `@hafence/power-ipmi/protocol` subpath.
 */
export { IpmiPowerDriver } from './driver/ipmi-power-driver.js';
export type { IpmiPowerDriverOptions } from './driver/ipmi-power-driver.js';
export { toIpmiBmc } from './driver/ipmi-target.js';
export type { IpmiTargetOptions } from './driver/ipmi-target.js';
export { IpmiClient } from './transport/ipmi-client.js';
export type { IpmiBmc, IpmiCallOptions, IpmiClientOptions, ChassisAction } from './transport/ipmi-client.js';
export { UdpEndpoint } from './transport/udp-endpoint.js';
export type { UdpEndpointOptions, DatagramHandler } from './transport/udp-endpoint.js';
export type { RetransmitPolicy } from './transport/bmc-link.js';
export { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS } from './transport/bmc-connection.js';
export type { SessionPolicy } from './transport/bmc-connection.js';
export { ReplayWindow } from './transport/replay-window.js';
export type { ChassisStatus, DeviceId } from './protocol/commands.js';
export { MalformedPacketError } from './protocol/packet-error.js';
export { registerIpmiDriver } from './register-ipmi-driver.js';
