import { abortReason } from '@hafence/core';
import type { FetchLike } from '../src/index.js';

/** How one simulated instance answers. */
export interface FakeInstance {
  /** `GET /healthz` answers 503. */
  unhealthy: boolean;
  /** `GET /metrics` answers 500 (the activity check cannot tell). */
  metricsBroken: boolean;
  /** No request is answered until its signal aborts. */
  hanging: boolean;
  requests: number;
}

/** Simulated instances of the HTTP service behind a {@link FetchLike} that honours its signal like `fetch`. */
export class FakeHttpService {
  readonly instances = new Map<string, FakeInstance>();

  /** The instance `id` (created healthy). */
  instance(id: string): FakeInstance {
    let i = this.instances.get(id);
    if (!i) this.instances.set(id, (i = { unhealthy: false, metricsBroken: false, hanging: false, requests: 0 }));
    return i;
  }

  /** The fetch to hand to the provider (URLs are `http://<id><path>`). */
  readonly fetch: FetchLike = async (url, init) => {
    if (init.signal.aborted) throw abortReason(init.signal);
    const [, id = '', path = ''] = /^http:\/\/([^/]+)(\/.*)$/.exec(url) ?? [];
    const i = this.instance(id);
    if (i.hanging) {
      await new Promise<never>((_, reject) =>
        init.signal.addEventListener('abort', () => reject(abortReason(init.signal)), { once: true }),
      );
    }
    i.requests++;
    const status = (path === '/healthz' && i.unhealthy) || (path === '/metrics' && i.metricsBroken) ? 503 : 200;
    const body = path === '/metrics' ? `requests_total ${i.requests}\n` : 'ok';
    return { ok: status === 200, status, text: async () => body };
  };
}
