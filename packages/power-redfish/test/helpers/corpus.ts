/** Vendor-shaped Redfish documents: the parser tests' examples and the fuzz corpus. */

export const SERVICE_ROOT = {
  '@odata.id': '/redfish/v1',
  '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
  RedfishVersion: '1.6.0',
  Systems: { '@odata.id': '/redfish/v1/Systems' },
  SessionService: { '@odata.id': '/redfish/v1/SessionService' },
  Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
};

export const SYSTEMS = {
  '@odata.id': '/redfish/v1/Systems',
  'Members@odata.count': 1,
  Members: [{ '@odata.id': '/redfish/v1/Systems/System.Embedded.1' }],
};

/** iDRAC-like: inline allowable values, no PowerCycle, an IndicatorLED. */
export const DELL_SYSTEM = {
  '@odata.id': '/redfish/v1/Systems/System.Embedded.1',
  '@odata.etag': 'W/"gen-3"',
  Id: 'System.Embedded.1',
  PowerState: 'On',
  IndicatorLED: 'Lit',
  Actions: {
    '#ComputerSystem.Reset': {
      target: '/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset',
      'ResetType@Redfish.AllowableValues': [
        'On',
        'ForceOff',
        'ForceRestart',
        'GracefulShutdown',
        'PushPowerButton',
        'Nmi',
        'PowerCycle',
      ],
    },
  },
};

/** iLO-like: LocationIndicatorActive, the list behind an ActionInfo. */
export const HPE_SYSTEM = {
  '@odata.id': '/redfish/v1/Systems/1',
  Id: '1',
  PowerState: 'Off',
  LocationIndicatorActive: false,
  Actions: {
    '#ComputerSystem.Reset': {
      target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
      '@Redfish.ActionInfo': '/redfish/v1/Systems/1/ResetActionInfo',
    },
  },
};

export const ACTION_INFO = {
  '@odata.id': '/redfish/v1/Systems/1/ResetActionInfo',
  Parameters: [
    { Name: 'ResetType', Required: true, AllowableValues: ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart'] },
  ],
};

export const TASK = {
  '@odata.id': '/redfish/v1/TaskService/Tasks/7',
  TaskState: 'Running',
  TaskStatus: 'OK',
  Messages: [{ MessageId: 'Task.1.0.TaskStarted', Message: 'started' }],
};

export const ERROR = {
  error: {
    code: 'Base.1.8.GeneralError',
    message: 'A general error has occurred.',
    '@Message.ExtendedInfo': [
      { MessageId: 'Base.1.8.ActionParameterValueNotInList', Message: 'The value PowerCycle is not in the list.' },
    ],
  },
};

/** Every example, for the fuzz corpus. */
export const CORPUS: readonly object[] = [SERVICE_ROOT, SYSTEMS, DELL_SYSTEM, HPE_SYSTEM, ACTION_INFO, TASK, ERROR];
