/**
 * The HTTP layer under the registry client: node:http/https with keep-alive
 * agents (blob downloads stream straight from the socket into the store),
 * redirects followed by hand so credentials never leak to another host, and
 * `insecure` meaning "do not verify TLS" as skopeo's --tls-verify=false.
 * node:http is used rather than fetch because fetch cannot switch off
 * certificate checks per request without the separate undici package.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unavailable } from '../../errors.ts';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a function opening the body afresh (so a retry can resend it). */
  body?: Buffer | (() => Promise<Readable>);
  insecure?: boolean;
  /** Give up when no byte moves for this long (ms). */
  idleTimeoutMs?: number;
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
  return new Promise<HttpResponse>((resolve, reject) => {
    const r = send(url, { method: req.method, headers, agent }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
    });
    r.setTimeout(req.idleTimeoutMs ?? 60_000, () => r.destroy(unavailable('http_timeout', `${req.method} ${url.href}: no response`)));
    r.on('error', reject);
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
export async function readBody(res: HttpResponse, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    total += b.byteLength;
    if (total > limit) {
      res.body.destroy();
      throw unavailable('response_too_large', `${res.url.href}: response larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Discards a body so the connection goes back to the pool. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
