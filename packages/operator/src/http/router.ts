import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler gets: the request, the answer, path parameters, the query and who asked. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The authenticated identity (a token's NAME or a client certificate's CN). */
  readonly identity: string;
}

/** A route's handler; a thrown `ApiError` becomes its error answer. */
export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

/** One route: a method and a path pattern whose `:name` segments are parameters. */
interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/** What {@link Router.match} found. */
export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: RouteHandler; readonly params: Record<string, string> }
  | { readonly kind: 'wrong-method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

/**
 * A tiny router: exact segments and `:name` parameters, first match wins. Parameters are
 * percent-decoded; a segment that does not decode does not match. Paths are not normalised:
 * `//x`, `/x//y`, `/x/` and `/x/../y` match no route (404), consistently.
 */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route, e.g. `add('GET', '/api/v1/resources/:id', h)`. */
  add(method: string, pattern: string, handler: RouteHandler): this {
    const segments = split(pattern);
    if (!segments) throw new Error(`bad route pattern: ${pattern}`);
    this.routes.push({ method, segments, handler });
    return this;
  }

  /** The route of `method` and `path` (the path without its query; one with an empty segment matches none). */
  match(method: string, path: string): RouteMatch {
    const parts = split(path);
    if (!parts) return { kind: 'none' };
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET'))
        return { kind: 'found', handler: route.handler, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
  }
}

/**
 * A path's segments: `/` is none, `/a/b` is `a`, `b`. A path that does not start with `/` or
 * holds an empty segment (`//a`, `/a//b`, `/a/`) is not split (undefined): it matches no route,
 * whichever segment is empty.
 */
function split(path: string): string[] | undefined {
  if (path === '/') return [];
  if (!path.startsWith('/')) return undefined;
  const parts = path.slice(1).split('/');
  return parts.includes('') ? undefined : parts;
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, seg] of pattern.entries()) {
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      const value = decode(part);
      if (value === undefined) return undefined;
      params[seg.slice(1)] = value;
    } else if (seg !== part) return undefined;
  }
  return params;
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
