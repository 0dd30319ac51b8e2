/**
 * `berth fn` is a client of the functions gateway's HTTP API, as faas-cli
 * is: the gateway is `--gateway`, else the stack file's provider.gateway
 * (when not the default), else OPENFAAS_URL, else http://127.0.0.1:8080
 * (faas-cli's order). `/system/*` requests carry basic auth: what `berth fn
 * login` (or faas-cli login) stored for that gateway, else, for a gateway
 * on loopback, the gateway's own credentials under berth's root when this
 * user can read them (root on the machine berthd runs on). Invocations
 * carry none, as faas-cli's do not: functions do their own auth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, describeError, errnoCode, failedPrecondition, internal, invalidArgument, notFound, unavailable, type BerthError } from '../../../../errors.ts';
import { storedAuthorization, configPath } from './config.ts';

export const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

/** faas-cli's getGatewayURL: flag, then the stack's, then OPENFAAS_URL, then the default; lower-case, no trailing "/", http:// when no scheme. */
export function resolveGateway(flag: string | undefined, stack: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const envUrl = env['OPENFAAS_URL'];
  let url = DEFAULT_GATEWAY;
  if (flag !== undefined && flag !== '' && flag !== DEFAULT_GATEWAY) url = flag;
  else if (stack !== undefined && stack !== '' && stack !== DEFAULT_GATEWAY) url = stack;
  else if (envUrl !== undefined && envUrl !== '') url = envUrl;
  url = url.replace(/\/+$/, '').toLowerCase();
  if (!url.startsWith('http')) url = `http://${url}`;
  try {
    new URL(url);
  } catch {
    throw invalidArgument('fn_flag_invalid', `gateway ${JSON.stringify(url)}: not a URL (like http://127.0.0.1:8080)`);
  }
  return url;
}

const isLoopback = (url: string): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname) || new URL(url).hostname.startsWith('127.');

/** The gateway's generated credentials under berth's root (ROOT/secrets), when readable. */
export function localCredentials(root: string): { user: string; password: string } | undefined {
  try {
    const user = readFileSync(join(root, 'secrets', 'basic-auth-user'), 'utf8').trim();
    const password = readFileSync(join(root, 'secrets', 'basic-auth-password'), 'utf8').trim();
    return user === '' || password === '' ? undefined : { user, password };
  } catch {
    return undefined;
  }
}

export interface RequestInit {
  query?: Record<string, string | undefined>;
  /** A JSON value, or raw bytes/text sent as they are. */
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Basic auth (default: for /system/* paths). */
  auth?: boolean;
}

/** A gateway's error answer as a BerthError: its status decides the kind, its text is the message. */
export function gatewayError(status: number, text: string, what: string): BerthError {
  const message = `${what}: ${text.trim() === '' ? `status ${status}` : text.trim()}`;
  const details = { status };
  if (status === 401) return failedPrecondition('fn_gateway_unauthorized', `${what}: unauthorized access, run "berth fn login" to set up authentication for this gateway`, { details });
  if (status === 404) return notFound('fn_gateway_not_found', message, { details });
  if (status === 409) return alreadyExists('fn_gateway_exists', message, { details });
  if (status === 400 || status === 422) return invalidArgument('fn_gateway_invalid', message, { details });
  if (status === 429 || status === 502 || status === 503 || status === 504) return unavailable('fn_gateway_unavailable', message, { details });
  return internal('fn_gateway_error', `${message} (status ${status})`, { details });
}

export class GatewayClient {
  readonly url: string;
  private readonly authorization: string | undefined;

  constructor(url: string, authorization: string | undefined) {
    this.url = url;
    this.authorization = authorization;
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(this.url + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) u.searchParams.set(k, v);
    const headers = new Headers(init.headers);
    let body: string | Buffer | undefined = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set('Content-Type', 'application/json');
    }
    if ((init.auth ?? path.startsWith('/system/')) && this.authorization !== undefined) headers.set('Authorization', this.authorization);
    try {
      return await fetch(u, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body: new Uint8Array(Buffer.from(body)) }) });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const why = errnoCode(cause) ?? describeError(cause ?? err);
      throw unavailable('fn_gateway_unreachable', `cannot connect to the functions gateway on ${this.url} (${why}): is berthd running with its gateway (berth system service), or is --gateway needed?`, { cause: err });
    }
  }

  /** A request whose answer must be 2xx; its body as text. */
  async ok(method: string, path: string, what: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
    const r = await this.request(method, path, init);
    const text = await r.text();
    if (r.status < 200 || r.status > 299) throw gatewayError(r.status, text, what);
    return { status: r.status, text };
  }

  async json(method: string, path: string, what: string, init: RequestInit = {}): Promise<unknown> {
    const { text } = await this.ok(method, path, what, init);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw internal('fn_gateway_error', `${what}: the gateway's answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
}

/** A client of `url` with the credentials this user has for it. */
export function gatewayClient(url: string, root: string, env: NodeJS.ProcessEnv = process.env): GatewayClient {
  let auth = storedAuthorization(configPath(env), url);
  if (auth === undefined && isLoopback(url)) {
    const local = localCredentials(root);
    if (local !== undefined) auth = `Basic ${Buffer.from(`${local.user}:${local.password}`).toString('base64')}`;
  }
  return new GatewayClient(url, auth);
}
