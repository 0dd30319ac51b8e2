/**
 * One try of a queued call, made through the gateway's own
 * `/function/{name}` (loopback HTTP to the listening gateway, as
 * OpenFaaS's queue-worker calls its gateway): the same path as a
 * synchronous call, so a function at zero is scaled up, the call is
 * metered and counted like any other. The answer is read whole (up to a
 * cap) because the callback may have to be sent again.
 */
import { functionKey } from '../namespaces.ts';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { describeError } from '../../errors.ts';
import type { CallRecord } from './store.ts';

export interface Target {
  host: string;
  port: number;
}

export interface Outcome {
  /** The function's status; absent when no answer came (error says why). */
  status?: number;
  error?: string;
  /** Whether the try ran past its time (an error too). */
  timedOut: boolean;
  seconds: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The answer was longer than the cap: body holds its start. */
  truncated: boolean;
}

export interface DeliverOptions {
  agent: Agent;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** The stored headers as a raw list for node:http, with our call id and the body's length. */
function outgoingHeaders(target: Target, call: CallRecord): string[] {
  // A raw list gets no Host from node:http, and HTTP/1.1 servers (node's among them) refuse a request without one.
  const out: string[] = ['Host', target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`];
  for (const [k, v] of call.headers) {
    const lower = k.toLowerCase();
    if (lower === 'x-call-id' || lower === 'content-length' || lower === 'host') continue;
    out.push(k, v);
  }
  out.push('X-Call-Id', call.id, 'Content-Length', String(call.body.length));
  return out;
}

export function deliver(target: Target, call: CallRecord, o: DeliverOptions, signal: AbortSignal): Promise<Outcome> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  return new Promise<Outcome>((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no answer within ${o.timeoutMs}ms`));
    }, o.timeoutMs);
    const finish = (x: Omit<Outcome, 'seconds' | 'timedOut'>): void => {
      clearTimeout(timer);
      resolve({ ...x, timedOut, seconds: seconds() });
    };
    const req = request(
      {
        host: target.host,
        port: target.port,
        method: call.method,
        path: `/function/${encodeURIComponent(functionKey(call.namespace, call.function))}${call.path}${call.query}`,
        headers: outgoingHeaders(target, call),
        agent: o.agent,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (size + chunk.length > o.maxResponseBytes) {
            truncated = true;
            chunks.push(chunk.subarray(0, o.maxResponseBytes - size));
            size = o.maxResponseBytes;
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.once('end', () => finish({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks, size), truncated }));
        res.once('error', (err) => finish({ error: `reading the answer: ${describeError(err)}`, headers: {}, body: Buffer.alloc(0), truncated: false }));
      },
    );
    req.once('error', (err) => finish({ error: describeError(err), headers: {}, body: Buffer.alloc(0), truncated: false }));
    req.end(call.body);
  });
}
