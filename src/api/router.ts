/**
 * Routes of the Docker Engine API and berth's own (`/berth/...`): a method
 * and a path pattern (`/containers/{id}/start`; `{name*}` takes one or more
 * segments, as an image name `library/busybox:1` needs) to a handler. The
 * first route registered that matches wins; HEAD falls back to GET. The
 * optional `/vX.Y` prefix Docker clients put before every path is split off
 * first (splitVersion) and checked against the versions berth speaks.
 */
import { invalidArgument } from '../errors.ts';
import type { Handler } from './reply.ts';

export interface RouteOptions {
  /** The handler may take over the connection (attach, exec start): HTTP upgrades to it are accepted. */
  hijack?: boolean;
}

export interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly handler: Handler;
  readonly hijack: boolean;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

/**
 * The API versions berthd speaks: up to docker CLI 28's (1.50, so it
 * negotiates no lower and sends today's shapes), down to the oldest
 * dockerd 28 still takes.
 */
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

function compile(pattern: string): { regex: RegExp; names: string[] } {
  if (!pattern.startsWith('/')) throw invalidArgument('api_route_invalid', `route "${pattern}": a pattern starts with /`);
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((seg) => {
      const m = /^\{([a-zA-Z_][a-zA-Z0-9_]*)(\*?)\}$/.exec(seg);
      if (m === null) {
        if (/[{}]/.test(seg)) throw invalidArgument('api_route_invalid', `route "${pattern}": segment "${seg}" is not a literal or a {name}`);
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      names.push(m[1] ?? '');
      return m[2] === '*' ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), names };
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): void {
    const upper = method.toUpperCase();
    if (this.routes.some((r) => r.method === upper && r.pattern === pattern)) {
      throw invalidArgument('api_route_invalid', `route ${upper} ${pattern} is registered twice`);
    }
    this.routes.push({ method: upper, pattern, handler, hijack: options.hijack ?? false, ...compile(pattern) });
  }

  get(pattern: string, handler: Handler): void {
    this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler, options?: RouteOptions): void {
    this.add('POST', pattern, handler, options);
  }

  delete(pattern: string, handler: Handler): void {
    this.add('DELETE', pattern, handler);
  }

  head(pattern: string, handler: Handler): void {
    this.add('HEAD', pattern, handler);
  }

  put(pattern: string, handler: Handler): void {
    this.add('PUT', pattern, handler);
  }

  /** The route for a method and a path without its version prefix; undefined when there is none. */
  match(method: string, path: string): Match | undefined {
    const upper = method.toUpperCase();
    return this.find(upper, path) ?? (upper === 'HEAD' ? this.find('GET', path) : undefined);
  }

  private find(method: string, path: string): Match | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (m === null) continue;
      const params: Record<string, string> = {};
      try {
        route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      } catch {
        throw invalidArgument('api_path_invalid', `path "${path}": bad percent-encoding`);
      }
      return { route, params };
    }
    return undefined;
  }
}

function versionNumber(v: string): [number, number] {
  const [major = '0', minor = '0'] = v.split('.');
  return [Number(major), Number(minor)];
}

/** -1, 0, 1 as a is older than, the same as, or newer than b ("1.9" < "1.43"). */
export function compareVersions(a: string, b: string): number {
  const [am, an] = versionNumber(a);
  const [bm, bn] = versionNumber(b);
  return Math.sign(am - bm || an - bn);
}

/**
 * `/v1.43/containers/json` → version "1.43", path `/containers/json`. A
 * version outside what berthd speaks is refused with dockerd's words, so
 * clients that negotiate understand it.
 */
export function splitVersion(path: string): { version: string | undefined; path: string } {
  const m = /^\/v([0-9]+(?:\.[0-9]+)?)(\/.*)?$/.exec(path);
  if (m === null) return { version: undefined, path };
  const version = m[1] ?? '';
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalidArgument('api_version_unsupported', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalidArgument('api_version_unsupported', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  return { version, path: m[2] ?? '/' };
}
