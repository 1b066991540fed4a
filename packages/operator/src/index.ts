/**
 * The operator's side of a hafence engine: an HTTP API with a live event stream,
 * Prometheus metrics and a status page, for `hafence serve` and for embedders.
 *
 * @packageDocumentation
 */

/** This package's version. */
export const OPERATOR_PACKAGE_VERSION = '0.1.0';

export { renderStatusPage } from './page/render-status-page.js';
export type { StatusSnapshot, PageServerInfo, PageEvent } from './page/snapshot.js';
export { STATUS_PAGE_SCRIPT } from './page/status-script.js';
export { STATUS_PAGE_STYLE } from './page/status-style.js';
export { STATUS_PAGE_ASSETS, type StatusPageAsset } from './page/assets.js';
