import { createHash } from 'node:crypto';
import type { RedfishPowerState } from './redfish-power.js';
import type { RedfishSimTask } from './redfish-tasks.js';
import type { RedfishVariantProfile } from './redfish-variant.js';

/** The resource URIs of a simulated service. */
export interface RedfishUris {
  readonly root: '/redfish/v1';
  readonly systems: string;
  readonly system: string;
  readonly reset: string;
  readonly resetActionInfo: string;
  readonly managers: string;
  readonly manager: string;
  readonly chassisCollection: string;
  readonly chassis: string;
  readonly sessionService: string;
  readonly sessions: string;
  readonly accountService: string;
  readonly accounts: string;
  readonly taskService: string;
  readonly tasks: string;
}

/** The URIs of a variant's resources. */
export function redfishUris(p: RedfishVariantProfile): RedfishUris {
  const system = `/redfish/v1/Systems/${p.systemId}`;
  return {
    root: '/redfish/v1',
    systems: '/redfish/v1/Systems',
    system,
    reset: `${system}/Actions/ComputerSystem.Reset`,
    resetActionInfo: `${system}/ResetActionInfo`,
    managers: '/redfish/v1/Managers',
    manager: `/redfish/v1/Managers/${p.managerId}`,
    chassisCollection: '/redfish/v1/Chassis',
    chassis: `/redfish/v1/Chassis/${p.chassisId}`,
    sessionService: '/redfish/v1/SessionService',
    sessions: '/redfish/v1/SessionService/Sessions',
    accountService: '/redfish/v1/AccountService',
    accounts: '/redfish/v1/AccountService/Accounts',
    taskService: '/redfish/v1/TaskService',
    tasks: '/redfish/v1/TaskService/Tasks',
  };
}

/** The mutable facts of the system that its documents show. */
export interface RedfishSystemFacts {
  readonly powerState: RedfishPowerState;
  readonly assetTag: string;
  readonly indicatorLed: string;
  readonly uuid: string;
}

const link = (id: string): { '@odata.id': string } => ({ '@odata.id': id });

function resource(type: string, id: string, uri: string, name: string): Record<string, unknown> {
  const [ns] = type.replace('#', '').split('.');
  return {
    '@odata.context': `/redfish/v1/$metadata#${ns}.${ns}`,
    '@odata.id': uri,
    '@odata.type': type,
    Id: id,
    Name: name,
  };
}

/** A resource collection. */
export function collection(type: string, uri: string, name: string, members: readonly string[]): unknown {
  return {
    '@odata.context': `/redfish/v1/$metadata#${type}.${type}`,
    '@odata.id': uri,
    '@odata.type': `#${type}.${type}`,
    Name: name,
    Members: members.map(link),
    'Members@odata.count': members.length,
  };
}

/** The service root (`GET /redfish/v1`, readable without credentials). */
export function serviceRootDocument(p: RedfishVariantProfile, u: RedfishUris, uuid: string): unknown {
  return {
    ...resource('#ServiceRoot.v1_5_0.ServiceRoot', 'RootService', '/redfish/v1/', 'Root Service'),
    RedfishVersion: p.redfishVersion,
    UUID: uuid,
    Vendor: p.vendor,
    Product: `${p.model} (hafence RedfishSim)`,
    Systems: link(u.systems),
    Chassis: link(u.chassisCollection),
    Managers: link(u.managers),
    SessionService: link(u.sessionService),
    AccountService: link(u.accountService),
    TaskService: link(u.taskService),
    Links: { Sessions: link(u.sessions) },
  };
}

/** The ComputerSystem, without its ETag. */
export function systemDocument(p: RedfishVariantProfile, u: RedfishUris, f: RedfishSystemFacts): unknown {
  return {
    ...resource('#ComputerSystem.v1_13_0.ComputerSystem', p.systemId, u.system, 'System'),
    SystemType: 'Physical',
    Manufacturer: p.vendor,
    Model: p.model,
    SerialNumber: `SIM${f.uuid.slice(0, 8).toUpperCase()}`,
    UUID: f.uuid,
    AssetTag: f.assetTag,
    IndicatorLED: f.indicatorLed,
    PowerState: f.powerState,
    Status: { State: 'Enabled', Health: 'OK' },
    Boot: {
      BootSourceOverrideEnabled: 'Disabled',
      BootSourceOverrideTarget: 'None',
      BootSourceOverrideMode: 'UEFI',
      'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup'],
    },
    Links: { Chassis: [link(u.chassis)], ManagedBy: [link(u.manager)] },
    Actions: {
      '#ComputerSystem.Reset': {
        target: u.reset,
        ...(p.resetTypesIn === 'action-info'
          ? { '@Redfish.ActionInfo': u.resetActionInfo }
          : { 'ResetType@Redfish.AllowableValues': [...p.resetTypes] }),
      },
    },
  };
}

/** The `ActionInfo` of the reset action (variants that list the allowed values there). */
export function resetActionInfoDocument(p: RedfishVariantProfile, u: RedfishUris): unknown {
  return {
    ...resource('#ActionInfo.v1_1_2.ActionInfo', 'ResetActionInfo', u.resetActionInfo, 'Reset Action Info'),
    Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: [...p.resetTypes] }],
  };
}

/** A weak ETag of a document's content. */
export function etagOf(doc: unknown): string {
  return `W/"${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16)}"`;
}

/** The Manager (the BMC itself). */
export function managerDocument(p: RedfishVariantProfile, u: RedfishUris): unknown {
  return {
    ...resource('#Manager.v1_10_0.Manager', p.managerId, u.manager, 'Manager'),
    ManagerType: 'BMC',
    FirmwareVersion: '1.0.0-sim',
    Model: `${p.vendor} BMC`,
    PowerState: 'On',
    Status: { State: 'Enabled', Health: 'OK' },
    Links: { ManagerForServers: [link(u.system)], ManagerForChassis: [link(u.chassis)] },
  };
}

/** The Chassis. */
export function chassisDocument(p: RedfishVariantProfile, u: RedfishUris, power: RedfishPowerState): unknown {
  return {
    ...resource('#Chassis.v1_14_0.Chassis', p.chassisId, u.chassis, 'Computer System Chassis'),
    ChassisType: 'RackMount',
    Manufacturer: p.vendor,
    Model: p.model,
    PowerState: power,
    Status: { State: 'Enabled', Health: 'OK' },
    Links: { ComputerSystems: [link(u.system)], ManagedBy: [link(u.manager)] },
  };
}

/** The SessionService. */
export function sessionServiceDocument(u: RedfishUris, timeoutSeconds: number): unknown {
  return {
    ...resource('#SessionService.v1_1_8.SessionService', 'SessionService', u.sessionService, 'Session Service'),
    ServiceEnabled: true,
    SessionTimeout: timeoutSeconds,
    Status: { State: 'Enabled', Health: 'OK' },
    Sessions: link(u.sessions),
  };
}

/** One Session. */
export function sessionDocument(u: RedfishUris, id: string, userName: string): unknown {
  return { ...resource('#Session.v1_3_0.Session', id, `${u.sessions}/${id}`, 'User Session'), UserName: userName };
}

/** The AccountService with its one account. */
export function accountServiceDocument(u: RedfishUris): unknown {
  return {
    ...resource('#AccountService.v1_10_0.AccountService', 'AccountService', u.accountService, 'Account Service'),
    ServiceEnabled: true,
    Accounts: link(u.accounts),
  };
}

/** The one account. */
export function accountDocument(u: RedfishUris, userName: string): unknown {
  return {
    ...resource('#ManagerAccount.v1_7_0.ManagerAccount', '1', `${u.accounts}/1`, 'User Account'),
    UserName: userName,
    RoleId: 'Administrator',
    Enabled: true,
    Locked: false,
  };
}

/** The TaskService. */
export function taskServiceDocument(u: RedfishUris): unknown {
  return {
    ...resource('#TaskService.v1_1_4.TaskService', 'TaskService', u.taskService, 'Task Service'),
    ServiceEnabled: true,
    Status: { State: 'Enabled', Health: 'OK' },
    Tasks: link(u.tasks),
  };
}

/** A Task (the body of its monitor too). */
export function taskDocument(u: RedfishUris, t: RedfishSimTask): unknown {
  const done = t.state !== 'Running';
  return {
    ...resource('#Task.v1_4_3.Task', t.id, `${u.tasks}/${t.id}`, t.name),
    TaskState: t.state,
    TaskStatus: t.state === 'Cancelled' ? 'Warning' : 'OK',
    PercentComplete: done ? 100 : 50,
    StartTime: new Date(t.startMs).toISOString(),
    ...(t.endMs === undefined ? {} : { EndTime: new Date(t.endMs).toISOString() }),
    TaskMonitor: `${u.tasks}/${t.id}`,
    Messages: [],
  };
}
