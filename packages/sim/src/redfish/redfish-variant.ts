/** Vendor shapes a {@link RedfishSim} can take. */
export type RedfishVariant = 'generic' | 'dell' | 'hpe' | 'supermicro';

/** How `POST …/Actions/ComputerSystem.Reset` answers. */
export type ResetReply = 'no-content' | 'ok-message' | 'task';

/** What differs between vendors' Redfish services, as far as power control sees it. */
export interface RedfishVariantProfile {
  readonly variant: RedfishVariant;
  /** `Id` of the one ComputerSystem. */
  readonly systemId: string;
  /** `Id` of the one Manager (the BMC). */
  readonly managerId: string;
  /** `Id` of the one Chassis. */
  readonly chassisId: string;
  /** `ResetType@Redfish.AllowableValues` of the system. */
  readonly resetTypes: readonly string[];
  /**
   * Where the allowed `ResetType`s are listed: `ResetType@Redfish.AllowableValues` in the action, or an
   * `@Redfish.ActionInfo` resource (Supermicro) that a client must read.
   */
  readonly resetTypesIn: 'allowable-values' | 'action-info';
  /** 204, 200 with a success message, or 202 + `Location` of a task monitor. */
  readonly resetReply: ResetReply;
  /** PATCH needs `If-Match` with the current ETag (428 without, 412 when stale). */
  readonly requireIfMatch: boolean;
  /** `PowerState` shows `PoweringOn`/`PoweringOff` while a transition is under way (else the old state). */
  readonly reportsTransitions: boolean;
  readonly vendor: string;
  readonly model: string;
  readonly redfishVersion: string;
}

const PROFILES: Readonly<Record<RedfishVariant, RedfishVariantProfile>> = {
  // The DMTF mockups' shape: every ResetType, transitional power states, plain 204.
  generic: {
    variant: 'generic',
    systemId: '1',
    managerId: 'BMC',
    chassisId: '1',
    resetTypes: [
      'On',
      'ForceOff',
      'GracefulShutdown',
      'GracefulRestart',
      'ForceRestart',
      'Nmi',
      'ForceOn',
      'PushPowerButton',
      'PowerCycle',
    ],
    resetTypesIn: 'allowable-values',
    resetReply: 'no-content',
    requireIfMatch: false,
    reportsTransitions: true,
    vendor: 'Contoso',
    model: 'Simulated Server',
    redfishVersion: '1.15.0',
  },
  // iDRAC 9: System.Embedded.1 / iDRAC.Embedded.1, no ForceOn, 204.
  dell: {
    variant: 'dell',
    systemId: 'System.Embedded.1',
    managerId: 'iDRAC.Embedded.1',
    chassisId: 'System.Embedded.1',
    resetTypes: [
      'On',
      'ForceOff',
      'ForceRestart',
      'GracefulRestart',
      'GracefulShutdown',
      'PushPowerButton',
      'Nmi',
      'PowerCycle',
    ],
    resetTypesIn: 'allowable-values',
    resetReply: 'no-content',
    requireIfMatch: false,
    reportsTransitions: false,
    vendor: 'Dell Inc.',
    model: 'PowerEdge R650',
    redfishVersion: '1.11.0',
  },
  // iLO 5: 200 with a Base.Success message, no PowerCycle, ETag required on PATCH.
  hpe: {
    variant: 'hpe',
    systemId: '1',
    managerId: '1',
    chassisId: '1',
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'Nmi', 'PushPowerButton', 'GracefulRestart'],
    resetTypesIn: 'allowable-values',
    resetReply: 'ok-message',
    requireIfMatch: true,
    reportsTransitions: false,
    vendor: 'HPE',
    model: 'ProLiant DL380 Gen10',
    redfishVersion: '1.6.0',
  },
  // X12 BMC: no PowerCycle, the values in a ResetActionInfo resource, and the reset runs as a task (202 + Location).
  supermicro: {
    variant: 'supermicro',
    systemId: '1',
    managerId: '1',
    chassisId: '1',
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn'],
    resetTypesIn: 'action-info',
    resetReply: 'task',
    requireIfMatch: false,
    reportsTransitions: false,
    vendor: 'Supermicro',
    model: 'SYS-1029U-TRT',
    redfishVersion: '1.8.0',
  },
};

/** The profile of a variant. */
export function redfishVariantProfile(variant: RedfishVariant): RedfishVariantProfile {
  const p = PROFILES[variant] as RedfishVariantProfile | undefined;
  if (!p) throw new RangeError(`unknown Redfish variant '${String(variant)}' (generic, dell, hpe, supermicro)`);
  return p;
}

/** Every variant, for tests that run each. */
export const REDFISH_VARIANTS: readonly RedfishVariant[] = ['generic', 'dell', 'hpe', 'supermicro'];
