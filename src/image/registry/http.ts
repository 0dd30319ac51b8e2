/**
 * The HTTP layer under the registry client: node:http/https with keep-alive
 * agents (blob downloads stream straight from the socket into the store),
 * redirects followed by hand so credentials never leak to another host, and
 * `insecure` meaning "do not verify TLS" as skopeo's --tls-verify=false.
 * Every exchange is bounded (timeouts.ts): the connection's idle timeout
 * runs until the body is read, and a deadline, when given, ends it whole.
 * node:http is used rather than fetch because fetch cannot switch off
 * certificate checks per request without the separate undici package.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readAtMost } from '../limits.ts';
import { deadlineExceeded, idleTimeout } from './timeouts.ts';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a function opening the body afresh (so a retry can resend it). */
  body?: Buffer | (() => Promise<Readable>);
  insecure?: boolean;
  /** Give up when no byte moves for this long (ms), answer and body alike. */
  idleTimeoutMs?: number;
  /** Names the exchange in timeout errors (default: method and URL). */
  label?: string;
  /** Give up at `at` (epoch ms), body included; `ms` is the budget it came from, for the message. */
  deadline?: { at: number; ms: number };
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });
const insecureAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

const MAX_REDIRECTS = 5;

function once(req: HttpRequest): Promise<HttpResponse> {
  const { url } = req;
  const isHttps = url.protocol === 'https:';
  const send = isHttps ? httpsRequest : httpRequest;
  const agent = isHttps ? (req.insecure === true ? insecureAgent : httpsAgent) : httpAgent;
  const headers: Record<string, string> = { 'user-agent': 'berth/0.1', ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.byteLength);
  else if (req.body === undefined && ['PUT', 'POST', 'PATCH'].includes(req.method)) headers['content-length'] = '0';
  const label = req.label ?? `${req.method} ${url.href}`;
  const { deadline } = req;
  if (deadline !== undefined && deadline.at <= Date.now()) return Promise.reject(deadlineExceeded(label, deadline.ms));
  return new Promise<HttpResponse>((resolve, reject) => {
    let body: IncomingMessage | undefined;
    // Before the answer the request fails; after it, the body the caller reads.
    const fail = (err: Error): void => void (body === undefined ? r.destroy(err) : body.destroy(err));
    const r = send(url, { method: req.method, headers, agent }, (res) => {
      body = res;
      res.once('close', () => clearTimeout(timer));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
    });
    const idleMs = req.idleTimeoutMs ?? 60_000;
    r.setTimeout(idleMs, () => fail(idleTimeout(label, idleMs)));
    const timer = deadline === undefined ? undefined : setTimeout(() => fail(deadlineExceeded(label, deadline.ms)), deadline.at - Date.now()).unref();
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      req.body().then(
        (stream) => pipeline(stream, r).catch((err: unknown) => r.destroy(err instanceof Error ? err : new Error(String(err)))),
        (err: unknown) => r.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    }
  });
}

/**
 * Sends a request, following redirects. Authorization goes only to the
 * origin it was meant for: a redirect to a blob store elsewhere drops it.
 */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  let current = req;
  for (let hop = 0; ; hop++) {
    const res = await once(current);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || location === undefined || hop >= MAX_REDIRECTS) return res;
    res.body.resume();
    const next = new URL(location, current.url);
    const headers = { ...current.headers };
    if (next.origin !== current.url.origin) delete headers['authorization'];
    const method = res.status === 303 ? 'GET' : current.method;
    current = { ...current, url: next, headers, method };
    if (method === 'GET' || method === 'HEAD') delete current.body;
  }
}

/** Reads a response body whole, refusing more than `limit` bytes. */
export function readBody(res: HttpResponse, limit: number, what = res.url.href): Promise<Buffer> {
  return readAtMost(res.body, limit, what);
}

/** Discards a body so the connection goes back to the pool. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
