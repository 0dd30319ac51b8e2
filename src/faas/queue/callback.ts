/**
 * The callback of an async call (`X-Callback-Url`): the function's answer
 * POSTed with its headers and OpenFaaS's queue-worker's (`X-Call-Id`,
 * `X-Function-Status`, `X-Function-Name`, `X-Duration-Seconds`,
 * `X-Start-Time`). It is made by berthd, from the host's network: a URL
 * on the host's loopback reaches the host. Only http and https are taken.
 * A failed POST (no answer, 408, 429, 5xx) is sent again a few times.
 */
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { invalidArgument, describeError } from '../../errors.ts';
import type { Outcome } from './deliver.ts';

/** A header value of X-Callback-Url, checked: an absolute http(s) URL. */
export function checkCallbackUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidArgument('faas_async_callback_invalid', `X-Callback-Url: ${JSON.stringify(raw)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidArgument('faas_async_callback_invalid', `X-Callback-Url: ${JSON.stringify(raw)}: only http and https callbacks are made (not ${url.protocol.replace(/:$/, '')})`);
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in a URL end up in logs and listings; a receiver that needs them reads a header or a path token.
    throw invalidArgument('faas_async_callback_invalid', 'X-Callback-Url: credentials in the URL are not taken (put a token in its path or query)');
  }
  return url.toString();
}

/** Headers of the function's answer not passed on: of one connection, or of a body that is re-sent. */
const NOT_PASSED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'host']);

export interface CallbackInfo {
  callId: string;
  fn: string;
  /** When the try started (ms), the X-Start-Time when no answer came. */
  startedAt: number;
}

/** What the callback POST carries: the answer's headers, then ours over them. */
export function callbackHeaders(o: Outcome, info: CallbackInfo): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.headers)) if (v !== undefined && !NOT_PASSED.has(k)) out[k] = v;
  const status = o.status ?? (o.timedOut ? 504 : 503);
  return {
    ...out,
    'x-call-id': info.callId,
    'x-function-name': info.fn,
    'x-function-status': String(status),
    'x-duration-seconds': typeof out['x-duration-seconds'] === 'string' ? out['x-duration-seconds'] : o.seconds.toFixed(6),
    'x-start-time': typeof out['x-start-time'] === 'string' ? out['x-start-time'] : String(Math.floor(info.startedAt / 1000)),
    ...(o.truncated ? { 'x-berth-body-truncated': 'true' } : {}),
    'content-length': String(o.body.length),
  };
}

export interface CallbackOptions {
  agent: Agent;
  timeoutMs: number;
}

/** One POST; its status, or throws with why none came. */
export function postOnce(url: string, headers: Record<string, string | string[]>, body: Buffer, o: CallbackOptions, signal: AbortSignal): Promise<number> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(u, { method: 'POST', headers, signal, timeout: o.timeoutMs, ...(u.protocol === 'http:' ? { agent: o.agent } : {}) }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs}ms`)));
    req.once('error', (err) => reject(new Error(describeError(err))));
    req.end(body);
  });
}

/** Whether a callback's answer says "try later" rather than "taken" or "refused". */
export function callbackRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
