import type { MetricsProvider, PageRenderer, ServerInfo, StatusSnapshot } from './options.js';
import type { OperatorEngine } from './engine-port.js';
import { ApiError, sendText } from './respond.js';
import type { Router } from './router.js';

/** What `/metrics` and the status page need. */
export interface PageDeps {
  readonly metrics?: MetricsProvider;
  readonly page?: PageRenderer;
  readonly service: OperatorEngine;
  readonly serverInfo: () => ServerInfo;
}

/** Registers `GET /metrics`, `GET /` and one `GET /<name>` per page asset (404 when not provided). */
export function registerPageRoutes(router: Router, deps: PageDeps): void {
  router.add('GET', '/metrics', async ({ res }) => {
    if (!deps.metrics) throw new ApiError(404, 'not-found', 'no metrics on this server');
    const text = await deps.metrics.metrics();
    sendText(res, 200, deps.metrics.contentType, text);
  });
  router.add('GET', '/', ({ res }) => {
    if (!deps.page) throw new ApiError(404, 'not-found', 'no status page on this server');
    sendText(res, 200, 'text/html; charset=utf-8', deps.page.renderPage(snapshot(deps)));
  });
  for (const [name, asset] of Object.entries(deps.page?.assets ?? {})) {
    router.add('GET', `/${name.replace(/^\/+/, '')}`, ({ res }) => sendText(res, 200, asset.type, asset.body));
  }
}

/** The engine's state now, for the server-rendered page. */
export function snapshot(deps: Pick<PageDeps, 'service' | 'serverInfo'>): StatusSnapshot {
  return {
    server: deps.serverInfo(),
    partitions: deps.service.describePartitions(),
    fenceBudgets: deps.service.fenceBudgets(),
    resources: deps.service.describeResources(),
  };
}
