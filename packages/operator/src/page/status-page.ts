import type { PageRenderer } from '../http/options.js';
import { renderStatusPage } from './render-status-page.js';
import { STATUS_PAGE_SCRIPT } from './status-script.js';
import { STATUS_PAGE_STYLE } from './status-style.js';

/**
 * The status page for `startOperatorServer`'s `page` option: `GET /` renders
 * {@link renderStatusPage}, `GET /status.js` and `GET /status.css` serve its assets.
 *
 * @example
 * ```ts
 * await startOperatorServer({ ...options, page: statusPage });
 * ```
 */
export const statusPage: PageRenderer = {
  renderPage: renderStatusPage,
  assets: {
    'status.js': { type: 'text/javascript; charset=utf-8', body: STATUS_PAGE_SCRIPT },
    'status.css': { type: 'text/css; charset=utf-8', body: STATUS_PAGE_STYLE },
  },
};
