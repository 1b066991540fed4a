import { randomUUID } from 'node:crypto';
import type { Clock } from '@hafence/core';
import {
  accountDocument,
  accountServiceDocument,
  chassisDocument,
  collection,
  etagOf,
  managerDocument,
  redfishUris,
  resetActionInfoDocument,
  serviceRootDocument,
  sessionDocument,
  sessionServiceDocument,
  systemDocument,
  taskDocument,
  taskServiceDocument,
  type RedfishUris,
} from './redfish-documents.js';
import { redfishErrors, successReply, type RedfishReply } from './redfish-messages.js';
import { RedfishPower, type RedfishPowerDelays, type SimPowerState } from './redfish-power.js';
import { isRecord, parseJsonBody, type RedfishRequest } from './redfish-request.js';
import { RedfishSessions, type RedfishSessionsOptions } from './redfish-sessions.js';
import { RedfishTasks } from './redfish-tasks.js';
import type { RedfishVariantProfile } from './redfish-variant.js';

/** Options of {@link RedfishService}. */
export interface RedfishServiceOptions extends RedfishSessionsOptions {
  readonly profile: RedfishVariantProfile;
  readonly initialPower: SimPowerState;
  readonly powerDelays?: RedfishPowerDelays;
}

const LED_VALUES = ['Lit', 'Blinking', 'Off'];
const json = (body: unknown, status = 200, headers?: Record<string, string>): RedfishReply => ({
  status,
  body,
  headers,
});

/**
 * The Redfish service of a simulated BMC without its sockets: request in, reply out. It holds the power model, the
 * sessions and the tasks; {@link RedfishSim} puts it behind HTTPS and adds faults.
 */
export class RedfishService {
  readonly profile: RedfishVariantProfile;
  readonly uris: RedfishUris;
  readonly power: RedfishPower;
  readonly sessions: RedfishSessions;
  readonly tasks: RedfishTasks;
  readonly #uuid = randomUUID();
  #assetTag = '';
  #indicatorLed = 'Off';

  constructor(options: RedfishServiceOptions, clock: Clock) {
    this.profile = options.profile;
    this.uris = redfishUris(options.profile);
    this.power = new RedfishPower(clock, options.initialPower, options.powerDelays);
    this.sessions = new RedfishSessions(options, clock);
    this.tasks = new RedfishTasks(clock);
  }

  /** Answers one request. */
  handle(req: RedfishRequest): RedfishReply {
    const open = this.#unauthenticated(req);
    if (open) return open;
    const auth = this.sessions.authenticate(req.authorization, req.authToken);
    if (!auth.ok) return redfishErrors.unauthorized(this.sessions.basicEnabled);
    return this.#authenticated(req, auth.userName);
  }

  #unauthenticated(req: RedfishRequest): RedfishReply | undefined {
    const { path, method } = req;
    if (path === '/redfish')
      return method === 'GET' ? json({ v1: '/redfish/v1/' }) : redfishErrors.methodNotAllowed('GET');
    if (path === this.uris.root) {
      return method === 'GET'
        ? json(serviceRootDocument(this.profile, this.uris, this.#uuid))
        : redfishErrors.methodNotAllowed('GET');
    }
    if (path === this.uris.sessions && method === 'POST') return this.#login(req);
    return undefined;
  }

  #login(req: RedfishRequest): RedfishReply {
    const parsed = parseJsonBody(req.body);
    if (!parsed.ok || !isRecord(parsed.value)) return redfishErrors.malformedJson();
    const { UserName: user, Password: password } = parsed.value;
    if (user === undefined) return redfishErrors.parameterMissing('Session create', 'UserName');
    if (password === undefined) return redfishErrors.parameterMissing('Session create', 'Password');
    if (!this.sessions.checkPassword(user, password)) return redfishErrors.loginFailed(this.uris.sessions);
    const session = this.sessions.open(user as string);
    // bmcweb answers a full session table so (503, Base SessionLimitExceeded); other BMCs use 400 with their own id
    if (!session) return redfishErrors.sessionLimitExceeded();
    const location = `${this.uris.sessions}/${session.id}`;
    return json(sessionDocument(this.uris, session.id, session.userName), 201, {
      Location: location,
      'X-Auth-Token': session.token,
    });
  }

  #authenticated(req: RedfishRequest, userName: string): RedfishReply {
    const { path, method } = req;
    const u = this.uris;
    if (path === u.reset) return method === 'POST' ? this.#reset(req) : redfishErrors.methodNotAllowed('POST');
    if (path === u.system) {
      if (method === 'PATCH') return this.#patchSystem(req);
      return method === 'GET' ? this.#getSystem() : redfishErrors.methodNotAllowed('GET, PATCH');
    }
    if (path.startsWith(`${u.sessions}/`) && method === 'DELETE') {
      return this.sessions.close(path.slice(u.sessions.length + 1)) ? { status: 204 } : redfishErrors.notFound(path);
    }
    if (path.startsWith(`${u.tasks}/`) && method === 'GET') return this.#task(path);
    const doc = this.#document(path, userName);
    if (doc === undefined) return redfishErrors.notFound(path);
    return method === 'GET' ? json(doc) : redfishErrors.methodNotAllowed('GET');
  }

  #document(path: string, userName: string): unknown {
    const u = this.uris;
    const p = this.profile;
    const power = this.power.reported(p.reportsTransitions);
    const sessions = this.sessions.list();
    const docs: Record<string, () => unknown> = {
      [u.systems]: () => collection('ComputerSystemCollection', u.systems, 'Computer System Collection', [u.system]),
      ...(p.resetTypesIn === 'action-info' ? { [u.resetActionInfo]: () => resetActionInfoDocument(p, u) } : {}),
      [u.managers]: () => collection('ManagerCollection', u.managers, 'Manager Collection', [u.manager]),
      [u.manager]: () => managerDocument(p, u),
      [u.chassisCollection]: () =>
        collection('ChassisCollection', u.chassisCollection, 'Chassis Collection', [u.chassis]),
      [u.chassis]: () => chassisDocument(p, u, power),
      [u.sessionService]: () => sessionServiceDocument(u, this.sessions.timeoutSeconds),
      [u.sessions]: () =>
        collection(
          'SessionCollection',
          u.sessions,
          'Session Collection',
          sessions.map((s) => `${u.sessions}/${s.id}`),
        ),
      [u.accountService]: () => accountServiceDocument(u),
      [u.accounts]: () =>
        collection('ManagerAccountCollection', u.accounts, 'Accounts Collection', [`${u.accounts}/1`]),
      [`${u.accounts}/1`]: () => accountDocument(u, userName),
      [u.taskService]: () => taskServiceDocument(u),
      [u.tasks]: () =>
        collection(
          'TaskCollection',
          u.tasks,
          'Task Collection',
          this.tasks.list().map((t) => `${u.tasks}/${t.id}`),
        ),
    };
    for (const s of sessions) docs[`${u.sessions}/${s.id}`] = () => sessionDocument(u, s.id, s.userName);
    return docs[path]?.();
  }

  #systemDoc(): unknown {
    return systemDocument(this.profile, this.uris, {
      powerState: this.power.reported(this.profile.reportsTransitions),
      assetTag: this.#assetTag,
      indicatorLed: this.#indicatorLed,
      uuid: this.#uuid,
    });
  }

  #getSystem(): RedfishReply {
    const doc = this.#systemDoc();
    const etag = etagOf(doc);
    return json({ ...(doc as object), '@odata.etag': etag }, 200, { ETag: etag });
  }

  #patchSystem(req: RedfishRequest): RedfishReply {
    const etag = etagOf(this.#systemDoc());
    if (req.ifMatch === undefined && this.profile.requireIfMatch) return redfishErrors.preconditionRequired();
    if (req.ifMatch !== undefined && req.ifMatch !== '*' && req.ifMatch !== etag) {
      return redfishErrors.preconditionFailed();
    }
    const parsed = parseJsonBody(req.body);
    if (!parsed.ok || !isRecord(parsed.value)) return redfishErrors.malformedJson();
    const changes = parsed.value;
    for (const [key, value] of Object.entries(changes)) {
      if (key === 'AssetTag' && typeof value === 'string' && value.length <= 64) continue;
      if (key === 'IndicatorLED' && typeof value === 'string' && LED_VALUES.includes(value)) continue;
      return redfishErrors.propertyUnknown(key);
    }
    if (typeof changes.AssetTag === 'string') this.#assetTag = changes.AssetTag;
    if (typeof changes.IndicatorLED === 'string') this.#indicatorLed = changes.IndicatorLED;
    return this.#getSystem();
  }

  #reset(req: RedfishRequest): RedfishReply {
    const action = 'ComputerSystem.Reset';
    const parsed = parseJsonBody(req.body);
    if (!parsed.ok || (parsed.value !== undefined && !isRecord(parsed.value))) return redfishErrors.malformedJson();
    const resetType = isRecord(parsed.value) ? parsed.value.ResetType : undefined;
    if (resetType === undefined) return redfishErrors.parameterMissing(action, 'ResetType');
    // a ResetType that is not a string (an object, an array, a number) is a type error, never a 500
    if (typeof resetType !== 'string')
      return redfishErrors.parameterValueTypeError(
        (JSON.stringify(resetType) ?? typeof resetType).slice(0, 64),
        'ResetType',
        action,
      );
    if (!this.profile.resetTypes.includes(resetType))
      return redfishErrors.parameterNotSupported(resetType.slice(0, 64), 'ResetType', action);
    switch (this.profile.resetReply) {
      case 'no-content':
        this.power.reset(resetType);
        return { status: 204 };
      case 'ok-message':
        this.power.reset(resetType);
        return successReply();
      case 'task': {
        const { task, finish } = this.tasks.start(`Reset ${resetType}`);
        this.power.reset(resetType, finish);
        return this.#task(`${this.uris.tasks}/${task.id}`);
      }
    }
  }

  #task(path: string): RedfishReply {
    const task = this.tasks.get(path.slice(this.uris.tasks.length + 1));
    if (!task) return redfishErrors.notFound(path);
    const doc = taskDocument(this.uris, task);
    if (task.state !== 'Running') return json(doc);
    return json(doc, 202, { Location: path, 'Retry-After': '1' });
  }
}
