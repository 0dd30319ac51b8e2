/**
 * `POST /async-function/{name}[/path]`: the request (method, path, query,
 * headers, body up to a cap, X-Callback-Url) is written to the queue and
 * on disk before the 202 Accepted with its `X-Call-Id` goes out; the
 * worker (worker.ts) makes the call later. As OpenFaaS: POST only (405
 * otherwise), 404 for a function not deployed. A client's own X-Call-Id
 * is kept (a token of up to 128 characters); sent again while that call is
 * still owed, it is refused (409), so a client retrying its POST does not
 * queue the call twice.
 */
import { invokedKey, splitFunctionKey } from '../namespaces.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument, unavailable } from '../../errors.ts';
import type { FunctionStore } from '../store.ts';
import { checkCallbackUrl } from './callback.ts';
import type { QueueMetrics } from './metrics.ts';
import type { CallStore } from './store.ts';
import type { AsyncQueue } from './worker.ts';

export interface AcceptDeps {
  calls: CallStore;
  functions: FunctionStore;
  namespace: string;
  queue: AsyncQueue;
  metrics: QueueMetrics;
}

/** Of one connection, or recomputed: never stored with the call. */
const NOT_KEPT = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect']);

const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function tooLarge(cap: number): Error {
  return invalidArgument('faas_async_body_too_large', `async call: request body larger than the limit of ${cap} bytes (the queue keeps bodies up to ${cap} bytes)`);
}

async function readBody(req: IncomingMessage, cap: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) throw tooLarge(cap);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) throw tooLarge(cap);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The request's headers as received, in order, without those of the connection. */
function keptHeaders(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  const named = new Set((typeof req.headers.connection === 'string' ? req.headers.connection : '').split(',').map((s) => s.trim().toLowerCase()));
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!;
    const lower = k.toLowerCase();
    if (NOT_KEPT.has(lower) || named.has(lower)) continue;
    out.push([k, req.rawHeaders[i + 1]!]);
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Queues one call; `rest` is the path after the name ("" or "/..."), `search` the query with its "?". */
export async function acceptAsync(d: AcceptDeps, fn: string, rest: string, search: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    const text = `async call: method ${req.method ?? ''} not allowed on /async-function/ (POST only, as OpenFaaS)\n`;
    res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  // NAME, or NAME.NAMESPACE as /function/ takes it.
  const key = invokedKey(fn);
  const { namespace, name } = splitFunctionKey(key, d.namespace);
  d.functions.mustGet(namespace, name);
  const callbackRaw = header(req, 'x-callback-url');
  const callbackUrl = callbackRaw === undefined || callbackRaw === '' ? undefined : checkCallbackUrl(callbackRaw);
  const given = header(req, 'x-call-id');
  if (given !== undefined && given !== '' && !CALL_ID.test(given)) {
    throw invalidArgument('faas_async_call_id_invalid', `X-Call-Id: ${JSON.stringify(given.slice(0, 140))} is not a call id (1 to 128 of letters, digits and . _ : -)`);
  }
  const id = given !== undefined && given !== '' ? given : randomUUID();
  const owed = d.calls.count('queued') + d.calls.count('running');
  if (owed >= d.queue.options.maxQueued) throw unavailable('faas_async_queue_full', `async queue: full (${owed} calls owed, the limit is ${d.queue.options.maxQueued}); try again later`);
  const body = await readBody(req, d.queue.options.maxBodyBytes);
  const now = Date.now();
  d.calls.accept({ id, namespace, function: name, method: 'POST', path: rest, query: search, headers: keptHeaders(req), body, ...(callbackUrl === undefined ? {} : { callbackUrl }) }, now);
  d.metrics.accept(key);
  d.queue.wake();
  res.writeHead(202, { 'X-Call-Id': id, 'X-Start-Time': String(Math.floor(now / 1000)), 'Content-Length': 0 });
  res.end();
}
