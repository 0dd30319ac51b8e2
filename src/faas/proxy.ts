/**
 * `/function/{name}[/path]`: any method, the path after the name, the
 * query, the headers and the body passed through to one ready replica
 * (streamed both ways, with backpressure), OpenFaaS's `X-Call-Id`,
 * `X-Start-Time` and `X-Duration-Seconds` on the answer. A function at
 * zero replicas is scaled up and the request held until a replica is
 * ready (bounded: 504 past the wait, 502 when no replica could start).
 * Warm calls are berth-relay's (relay.ts); this serves the connections it
 * hands over and every call when it does not run.
 */
import { randomUUID } from 'node:crypto';
import { request, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FaasLogger } from './log.ts';
import { describeError, isBerthError } from '../errors.ts';
import type { Replica } from './replicas.ts';
import type { GatewayMetrics } from './metrics.ts';
import { USAGE_HEADER, type Call, type Metering } from './metering.ts';
import type { Scaler } from './scaler.ts';
import type { ColdStart } from './trace.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1): for one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', USAGE_HEADER]);
/** The gateway's own on every answer: a replica's (the watchdog sets X-Duration-Seconds) would make them twice. */
const OURS = new Set(['x-call-id', 'x-start-time', 'x-duration-seconds']);

export interface ProxyDeps {
  scaler: Scaler;
  metrics: GatewayMetrics;
  metering: Metering;
  logger: FaasLogger;
  agent: Agent;
  /** How long a request may wait for a replica (scale from zero; default 60 s). */
  waitMs: number;
}

function forwardHeaders(h: IncomingHttpHeaders, extra: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = new Set((typeof h.connection === 'string' ? h.connection : '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Proxies one invocation; `rest` is the path after the function's name ("" or "/..."), `search` the query with its "?". */
export async function invoke(deps: ProxyDeps, fn: string, rest: string, search: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const startTime = Math.floor(Date.now() / 1000);
  const callId = typeof req.headers['x-call-id'] === 'string' && req.headers['x-call-id'] !== '' ? req.headers['x-call-id'] : randomUUID();
  const ours = { 'X-Call-Id': callId, 'X-Start-Time': String(startTime) };
  const seconds = (): string => ((performance.now() - started) / 1000).toFixed(6);
  let code = 500;
  const abort = new AbortController();
  let up: ClientRequest | undefined;
  // The response's close, not the request's: a request closes as soon as its body is read.
  // The upstream request is destroyed here rather than given the signal: a listener per request costs on the warm path.
  res.once('close', () => {
    if (res.writableFinished) return;
    abort.abort();
    up?.destroy();
  });
  let replica: Replica | undefined;
  let trace: ColdStart | undefined;
  let found = true;
  let call: Call | undefined;
  const release = deps.scaler.begin(fn);
  try {
    try {
      ({ replica, trace } = await deps.scaler.replicaFor(fn, deps.waitMs, abort.signal, started));
    } catch (err) {
      found = !isBerthError(err, 'faas_function_not_found');
      code = !found ? 404 : isBerthError(err, 'faas_replica_timeout') ? 504 : 502;
      plain(res, code, `${describeError(err)}\n`, { ...ours, 'X-Duration-Seconds': seconds() });
      return;
    }
    replica.inflight++;
    call = deps.metering.begin(fn, replica);
    const metered = call;
    let timedOut = false;
    code = await new Promise<number>((resolve) => {
      const u = request(
        {
          host: replica!.address,
          port: replica!.port,
          method: req.method,
          path: `${rest === '' ? '/' : rest}${search}`,
          headers: forwardHeaders(req.headers, { 'X-Call-Id': callId, 'X-Start-Time': String(startTime), 'X-Forwarded-Host': req.headers.host ?? '', 'X-Forwarded-For': req.socket.remoteAddress ?? '' }),
          agent: deps.agent,
        },
        (upRes) => {
          const killed = metered.killed(upRes.statusCode);
          if (killed !== undefined) {
            upRes.resume();
            plain(res, 502, killed, { ...ours, 'X-Duration-Seconds': seconds() });
            return resolve(502);
          }
          if (trace !== undefined) {
            trace.phase('response');
            // Logged once the answer's head is on its way: the write (synchronous to a file) would come before it.
            const ms = { ...trace.phases };
            setImmediate(() => deps.logger.info('function cold start', { function: fn, ms }));
          }
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !OURS.has(k)) headers[k] = v;
          res.writeHead(upRes.statusCode ?? 502, { ...headers, ...ours, 'X-Duration-Seconds': seconds() });
          upRes.pipe(res);
          upRes.once('end', () => {
            metered.answered(upRes);
            resolve(timedOut ? 504 : (upRes.statusCode ?? 502));
          });
          upRes.once('error', () => {
            res.destroy();
            resolve(upRes.statusCode ?? 502);
          });
          res.once('close', () => resolve(timedOut ? 504 : (upRes.statusCode ?? 502)));
        },
      );
      up = u;
      // The whole answer within the function's timeout (limits.ts), else 504 naming it.
      const timer = setTimeout(() => {
        timedOut = true;
        u.destroy();
        if (res.headersSent) res.destroy();
        else plain(res, 504, metered.timedOut(), { ...ours, 'X-Duration-Seconds': seconds() });
        resolve(504);
      }, metered.limits.timeoutMs);
      res.once('close', () => clearTimeout(timer));
      u.once('error', (err) => {
        if (timedOut) return;
        if (abort.signal.aborted) return resolve(499);
        const killed = metered.killed(undefined);
        if (killed !== undefined) {
          plain(res, 502, killed, { ...ours, 'X-Duration-Seconds': seconds() });
          return resolve(502);
        }
        deps.logger.warn('function replica unreachable', { function: fn, replica: replica!.name, err: describeError(err) });
        plain(res, 502, `function "${fn}": replica ${replica!.name} unreachable: ${describeError(err)}\n`, { ...ours, 'X-Duration-Seconds': seconds() });
        resolve(502);
      });
      req.pipe(u);
    });
  } finally {
    trace?.done();
    if (replica !== undefined) replica.inflight--;
    call?.end(code);
    release();
    // A name no function has is not counted: random names would grow the metrics without bound.
    if (found) deps.metrics.invoked(fn, code, (performance.now() - started) / 1000);
  }
}
