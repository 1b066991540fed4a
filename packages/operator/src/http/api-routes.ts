import type { ResourceRef, StateStore } from '@hafence/core';
import type { OperatorEngine } from './engine-port.js';
import type { ResourceHistory } from './resource-history.js';
import { ApiError, sendJson } from './respond.js';
import type { RouteContext, Router } from './router.js';
import type { ServerInfo } from './options.js';
import {
  eventsQuery,
  haBody,
  maintenanceBody,
  parseOr400,
  queryObject,
  resourcesQuery,
  resumeBody,
} from './validation.js';
import { readJsonBody } from './body.js';

/** What the JSON routes read and act on. */
export interface ApiDeps {
  readonly service: OperatorEngine;
  readonly store: Pick<StateStore, 'listEvents'>;
  readonly history: ResourceHistory;
  readonly serverInfo: () => ServerInfo;
}

/** The resource type of `/api/v1/resources/:id` (hypervisor hosts). */
const DEFAULT_TYPE = 'host';

/** Registers the JSON routes of `/api/v1` (the SSE stream is registered by the server). */
export function registerApiRoutes(router: Router, deps: ApiDeps): void {
  const { service } = deps;
  router
    .add('GET', '/api/v1/server', ({ res }) => sendJson(res, 200, deps.serverInfo()))
    .add('GET', '/api/v1/partitions', ({ res }) =>
      sendJson(res, 200, { partitions: service.describePartitions(), fenceBudgets: service.fenceBudgets() }),
    )
    .add('GET', '/api/v1/resources', ({ res, query }) => {
      const q = parseOr400(resourcesQuery, queryObject(query), 'query');
      const resources = service
        .describeResources()
        .filter(
          (r) =>
            (q.state === undefined || r.state === q.state) &&
            (q.partition === undefined || r.partition === q.partition),
        );
      sendJson(res, 200, { resources });
    })
    .add('GET', '/api/v1/resources/:id', (ctx) => detail(ctx, deps, { type: DEFAULT_TYPE, id: ctx.params.id! }))
    .add('GET', '/api/v1/resources/:type/:id', (ctx) => detail(ctx, deps, refOf(ctx)))
    .add('POST', '/api/v1/resources/:id/maintenance', (ctx) =>
      maintenance(ctx, deps, { type: DEFAULT_TYPE, id: ctx.params.id! }),
    )
    .add('POST', '/api/v1/resources/:type/:id/maintenance', (ctx) => maintenance(ctx, deps, refOf(ctx)))
    .add('POST', '/api/v1/partitions/:id/ha', async (ctx) => {
      const body = parseOr400(haBody, await readJsonBody(ctx.req), 'body');
      await service.setHaEnabled(ctx.params.id!, body.enabled, actor(ctx, body.reason));
      sendJson(ctx.res, 200, { partition: ctx.params.id, haEnabled: body.enabled });
    })
    .add('POST', '/api/v1/fencing/resume', async (ctx) => {
      const body = parseOr400(resumeBody, await readJsonBody(ctx.req), 'body');
      service.resumeFencing(body.scope, actor(ctx, body.reason));
      sendJson(ctx.res, 200, { scope: body.scope, resumed: true });
    })
    .add('GET', '/api/v1/events', async ({ res, query }) => {
      const q = parseOr400(eventsQuery, queryObject(query), 'query');
      const page = await deps.store.listEvents({
        ...(q.after !== undefined ? { afterId: q.after } : {}),
        limit: q.limit,
      });
      const events = page.map((e) => ({ id: e.id, t: e.t, type: e.type, event: JSON.parse(e.json) as unknown }));
      sendJson(res, 200, { events, next: page.at(-1)?.id ?? q.after ?? 0 });
    });
}

function refOf(ctx: RouteContext): ResourceRef {
  return { type: ctx.params.type!, id: ctx.params.id! };
}

function detail(ctx: RouteContext, deps: ApiDeps, ref: ResourceRef): void {
  const d = deps.service.describeResource(ref);
  sendJson(ctx.res, 200, { ...d, ...deps.history.of(ref.type, ref.id) });
}

async function maintenance(ctx: RouteContext, deps: ApiDeps, ref: ResourceRef): Promise<void> {
  const body = parseOr400(maintenanceBody, await readJsonBody(ctx.req), 'body');
  await deps.service.setMaintenance(ref, body.on, actor(ctx, body.reason));
  sendJson(ctx.res, 200, { resource: ref.id, type: ref.type, maintenance: body.on });
}

function actor(ctx: RouteContext, reason: string | undefined): { by: string; reason?: string } {
  return { by: ctx.identity, ...(reason !== undefined ? { reason } : {}) };
}

/** Thrown by a route that does not exist for this server (no metrics, no page). */
export function notFound(what: string): ApiError {
  return new ApiError(404, 'not-found', `no ${what} here`);
}
