/** A reply of the simulated Redfish service, before it is written to the socket. */
export interface RedfishReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body (none for 204). */
  readonly body?: unknown;
}

/** One `@Message.ExtendedInfo` entry, as DMTF's Base message registry words it. */
export interface RedfishMessage {
  readonly MessageId: string;
  readonly Message: string;
  readonly Severity: 'OK' | 'Warning' | 'Critical';
  readonly Resolution: string;
  readonly MessageArgs?: readonly string[];
  readonly RelatedProperties?: readonly string[];
}

/** A Base.1.x message. */
export function baseMessage(
  id: string,
  message: string,
  resolution: string,
  args: readonly string[] = [],
  severity: RedfishMessage['Severity'] = 'Warning',
): RedfishMessage {
  return {
    MessageId: `Base.1.8.${id}`,
    Message: message,
    Severity: severity,
    Resolution: resolution,
    MessageArgs: args,
  };
}

/** An error reply: `{ "error": { code, message, "@Message.ExtendedInfo": [...] } }` (Redfish spec §9.5.2.2). */
export function errorReply(
  status: number,
  info: RedfishMessage,
  headers?: Readonly<Record<string, string>>,
): RedfishReply {
  return {
    status,
    headers,
    body: {
      error: {
        code: info.MessageId,
        message: 'A general error has occurred. See ExtendedInfo for more information.',
        '@Message.ExtendedInfo': [info],
      },
    },
  };
}

/** The errors the simulator answers with, one builder per Base message. */
export const redfishErrors = {
  unauthorized: (basic: boolean): RedfishReply =>
    errorReply(
      401,
      baseMessage(
        'NoValidSession',
        'There is no valid session established with the implementation.',
        'Establish a session before attempting any operations.',
        [],
        'Critical',
      ),
      basic ? { 'WWW-Authenticate': 'Basic realm="RedfishService"' } : undefined,
    ),
  loginFailed: (uri: string): RedfishReply =>
    errorReply(
      401,
      baseMessage(
        'ResourceAtUriUnauthorized',
        `While accessing the resource at ${uri}, the service received an authorization error 'Invalid credentials'.`,
        'Ensure that the appropriate access is provided for the service in order for it to access the URI.',
        [uri, 'Invalid credentials'],
        'Critical',
      ),
    ),
  notFound: (uri: string): RedfishReply =>
    errorReply(
      404,
      baseMessage(
        'ResourceMissingAtURI',
        `The resource at the URI ${uri} was not found.`,
        'Place a valid resource at the URI or correct the URI and resubmit the request.',
        [uri],
        'Critical',
      ),
    ),
  methodNotAllowed: (allow: string): RedfishReply =>
    errorReply(
      405,
      baseMessage('OperationNotAllowed', 'The HTTP method is not allowed on this resource.', 'None.', [], 'Critical'),
      { Allow: allow },
    ),
  malformedJson: (): RedfishReply =>
    errorReply(
      400,
      baseMessage(
        'MalformedJSON',
        'The request body submitted was malformed JSON and could not be parsed by the receiving service.',
        'Ensure that the request body is valid JSON and resubmit the request.',
        [],
        'Critical',
      ),
    ),
  parameterMissing: (action: string, param: string): RedfishReply =>
    errorReply(
      400,
      baseMessage(
        'ActionParameterMissing',
        `The action ${action} requires the parameter ${param} to be present in the request body.`,
        'Supply the action with the required parameter in the request body when the request is resubmitted.',
        [action, param],
        'Critical',
      ),
    ),
  parameterNotSupported: (value: string, param: string, action: string): RedfishReply =>
    errorReply(
      400,
      baseMessage(
        'ActionParameterValueNotInList',
        `The value '${value}' for the parameter ${param} in the action ${action} is not in the list of ` +
          'acceptable values.',
        'Choose a value from the enumeration list that the implementation can support and resubmit the request ' +
          'if the operation failed.',
        [value, param, action],
      ),
    ),
  parameterValueTypeError: (value: string, param: string, action: string): RedfishReply =>
    errorReply(
      400,
      baseMessage(
        'ActionParameterValueTypeError',
        `The value '${value}' for the parameter ${param} in the action ${action} is of a different type than the ` +
          'parameter can accept.',
        'Correct the value for the parameter in the request body and resubmit the request if the operation failed.',
        [value, param, action],
      ),
    ),
  sessionLimitExceeded: (): RedfishReply =>
    errorReply(
      503,
      baseMessage(
        'SessionLimitExceeded',
        'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the ' +
          'implementation.',
        'Reduce the number of other sessions before trying to establish the session or increase the limit of ' +
          'simultaneous sessions (if supported).',
        [],
        'Critical',
      ),
    ),
  propertyUnknown: (prop: string): RedfishReply =>
    errorReply(
      400,
      baseMessage(
        'PropertyUnknown',
        `The property ${prop} is not in the list of valid properties for the resource.`,
        'Remove the unknown property from the request body and resubmit the request if the operation failed.',
        [prop],
      ),
    ),
  tooLarge: (limit: number): RedfishReply =>
    errorReply(
      413,
      baseMessage(
        'PayloadTooLarge',
        `The request body is larger than the ${limit} bytes the service accepts.`,
        'Send a smaller request body.',
        [String(limit)],
        'Critical',
      ),
    ),
  preconditionRequired: (): RedfishReply =>
    errorReply(
      428,
      baseMessage(
        'PreconditionRequired',
        'A precondition header or annotation is required to change this resource.',
        'Try the request again with a If-Match header and the current ETag of the resource.',
        [],
        'Critical',
      ),
    ),
  preconditionFailed: (): RedfishReply =>
    errorReply(
      412,
      baseMessage(
        'PreconditionFailed',
        'The ETag supplied did not match the ETag required to change this resource.',
        'Try the operation again using the appropriate ETag.',
        [],
        'Critical',
      ),
    ),
  busy: (): RedfishReply =>
    errorReply(
      503,
      baseMessage(
        'ServiceTemporarilyUnavailable',
        'The service is temporarily unavailable.  Retry in 2 seconds.',
        'Wait for the indicated retry duration and retry the operation.',
        ['2'],
        'Critical',
      ),
      { 'Retry-After': '2' },
    ),
} as const;

/** The body of a successful action on a vendor that answers 200 (iLO): one `Base.Success` message. */
export function successReply(): RedfishReply {
  return {
    status: 200,
    body: {
      error: {
        code: 'iLO.0.10.ExtendedInfo',
        message: 'See @Message.ExtendedInfo for more information.',
        '@Message.ExtendedInfo': [{ MessageId: 'Base.1.4.Success' }],
      },
    },
  };
}
