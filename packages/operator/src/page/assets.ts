import { STATUS_PAGE_SCRIPT } from './status-script.js';
import { STATUS_PAGE_STYLE } from './status-style.js';

/** One static file of the status page. */
export interface StatusPageAsset {
  /** The `Content-Type` to send. */
  readonly contentType: string;
  readonly body: string;
}

/**
 * The status page's static files by request path (`/status.js`, `/status.css`), for a server
 * that serves the page at `/`.
 */
export const STATUS_PAGE_ASSETS: ReadonlyMap<string, StatusPageAsset> = new Map([
  ['/status.js', { contentType: 'text/javascript; charset=utf-8', body: STATUS_PAGE_SCRIPT }],
  ['/status.css', { contentType: 'text/css; charset=utf-8', body: STATUS_PAGE_STYLE }],
]);
