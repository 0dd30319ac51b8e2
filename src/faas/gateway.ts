/**
 * The functions gateway: an HTTP server on TCP (127.0.0.1:8080 by default)
 * speaking OpenFaaS's gateway API. It runs inside berthd, not beside it:
 * the replicas are the engine's containers, and one process holding both
 * means one owner of the database, no second API hop on the path of a cold
 * start, events from the engine (a replica died) as function calls, and
 * one thing to start and stop. See src/faas/README.md.
 *
 *   /healthz, /metrics                     open
 *   /system/*                              basic auth (src/faas/auth.ts)
 *   /function/{name}[/path]                open, proxied (src/faas/proxy.ts)
 *   /async-function/{name}[/path]          open, queued (src/faas/queue/)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createListener, type AddressInfo, type Server as NetServer } from 'node:net';
import { closeSync, existsSync } from 'node:fs';
import type { Engine } from '../engine/engine.ts';
import { httpStatusFor } from '../error-status.ts';
import { describeError, invalidArgument, notFound, unavailable } from '../errors.ts';
import { Autoscaler } from './autoscaler.ts';
import { Metering } from './metering.ts';
import { usageRoutes } from './routes/usage.ts';
import { UsageMetrics } from './usage-metrics.ts';
import { UsageStore } from './usage-store.ts';
import { AUTH_REALM, authorized, loadCredentials, type Credentials } from './auth.ts';
import { DEFAULT_NAMESPACE } from './deployment.ts';
import type { FaasLogger } from './log.ts';
import { GatewayMetrics, type MetricsRegistryLike } from './metrics.ts';
import { invoke, type ProxyDeps } from './proxy.ts';
import { Replicas } from './replicas.ts';
import { countConnections, handleFd, listenOn } from '../sys/listening.ts';
import { dupCloseOnExec } from '../sys/exec.ts';
import { Relay, relayPath } from './relay.ts';
import { functionRoutes } from './routes/functions.ts';
import { logRoutes } from './routes/logs.ts';
import { secretRoutes, secretUsers } from './routes/secrets.ts';
import { systemRoutes } from './routes/system.ts';
import type { GatewayReply, GatewayRoute } from './routes/types.ts';
import { Scaler } from './scaler.ts';
import { FunctionLogs } from './logs.ts';
import { functionKey, invokedKey } from './namespaces.ts';
import { SecretStore } from './secrets.ts';
import { FunctionStore } from './store.ts';
import { acceptAsync } from './queue/accept.ts';
import { QueueMetrics } from './queue/metrics.ts';
import { asyncCallRoutes } from './queue/routes.ts';
import { CallStore } from './queue/store.ts';
import { AsyncQueue, DEFAULT_ASYNC, type AsyncQueueOptions } from './queue/worker.ts';
import { ReplicaAgent } from './agent.ts';

export const DEFAULT_GATEWAY = '127.0.0.1:8080';

export interface GatewayOptions {
  engine: Engine;
  /** berth's root: the credentials are under ROOT/secrets. */
  root: string;
  host: string;
  port: number;
  logger: FaasLogger;
  /** Where the gateway's metrics go (berthd hands in a registry of its own for /metrics on the gateway). */
  metrics: MetricsRegistryLike;
  /** How long a request waits for a replica of a function at zero (default 60 s). */
  coldStartWaitMs?: number;
  readyTimeoutMs?: number;
  /** How many functions at zero keep a primed replica (berthd --faas-primed-max; src/faas/replicas.ts). */
  primedMax?: number;
  scaleTickMs?: number;
  /** The async queue's limits (berthd --async-*); defaults in src/faas/queue/worker.ts. */
  async?: Partial<AsyncQueueOptions>;
  /** Warm calls through berth-relay (src/faas/relay.ts; default: when the program is built), else all through Node.js. */
  relay?: boolean;
  /** The listening socket, passed at start (berthd woken from its sleep, src/api/activation.ts): served instead of binding host:port. */
  fd?: number;
}

export interface Gateway {
  readonly address: AddressInfo;
  readonly credentials: Credentials;
  close(): Promise<void>;
  /** Why berthd cannot sleep for the gateway's sake (a function deployed, an async call owed, a client connected); undefined: it can. */
  sleepBusy(): string | undefined;
  /** Before berthd sleeps: the relay stopped (its process would outlive this Node.js), calls served by Node.js on the same socket meanwhile. */
  prepareSleep(): Promise<void>;
  /** The listening socket's descriptor this process holds (passed on when berthd sleeps). */
  listeningFd(): number | undefined;
}

/** `ADDR:PORT` (berthd's --gateway) as a host and a port; "off" is handled by the caller. */
export function parseGatewayAddress(raw: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(raw);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) throw invalidArgument('daemon_flag_invalid', `--gateway ${JSON.stringify(raw)}: not ADDR:PORT (like 127.0.0.1:8080) or off`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** A deployment is a few KiB; a body past this is refused before it is read whole. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readCapped(req: IncomingMessage, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) throw invalidArgument('faas_body_invalid', `request body: larger than ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function splitUrl(url: string): { path: string; search: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) };
}

/** A streamed answer (logs): written as it comes, with backpressure, until it ends or the client goes. */
async function sendStream(res: ServerResponse, reply: { status: number; stream: AsyncIterable<string>; contentType: string }): Promise<void> {
  res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  for await (const chunk of reply.stream) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
    });
  }
  res.end();
}

function send(res: ServerResponse, reply: GatewayReply): void {
  if ('stream' in reply) {
    void sendStream(res, reply).catch(() => res.destroy());
    return;
  }
  const body = 'json' in reply ? `${JSON.stringify(reply.json)}\n` : reply.text;
  const type = 'json' in reply ? 'application/json' : (reply.contentType ?? 'text/plain; charset=utf-8');
  res.writeHead(reply.status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const namespace = DEFAULT_NAMESPACE;
  const credentials = loadCredentials(o.root);
  const store = new FunctionStore(o.engine.containers.db);
  const secrets = new SecretStore(o.root);
  const logs = new FunctionLogs({ engine: o.engine, root: o.root, logger: o.logger });
  const secretFile = (ns: string, name: string): string => {
    if (!secrets.exists(ns, name)) throw secrets.missing(ns, name);
    return secrets.path(ns, name);
  };
  let relay: Relay | undefined;
  const agent = new ReplicaAgent({ keepAlive: true, maxSockets: 256 });
  const replicas = new Replicas({
    engine: o.engine, store, namespace, logger: o.logger, secretFile, keepLog: (id) => logs.keep(id, (ns, fn) => store.get(ns, fn) !== undefined), agent,
    ...(o.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: o.readyTimeoutMs }), ...(o.primedMax === undefined ? {} : { primedMax: o.primedMax }),
    onChange: (fn) => relay?.update(fn),
    beforeDrain: () => relay?.sync() ?? Promise.resolve(),
  });
  const scaler = new Scaler({ store, replicas, namespace, logger: o.logger, ...(o.scaleTickMs === undefined ? {} : { tickMs: o.scaleTickMs }) });
  o.metrics.collect('gateway_log_follows', 'Log follows (/system/logs?follow=true) in progress', () => logs.following);
  const autoscaler = new Autoscaler({ store, replicas, load: scaler, namespace, logger: o.logger, cpuNs: (r) => r.cgroup?.cpuNs() });
  // Every namespace's functions, by key (src/faas/namespaces.ts).
  const keys = (): string[] => store.namespaces().flatMap((ns) => store.list(ns)).map((r) => functionKey(r.spec.namespace, r.spec.name));
  const metrics = new GatewayMetrics(namespace, o.metrics, () => keys().map((fn) => [fn, replicas.ready(fn)] as const));
  const usage = new UsageStore(o.engine.containers.db, namespace, { onError: (err) => o.logger.warn('function usage not written (tried again in a second)', { err }) });
  const usageMetrics = new UsageMetrics(namespace, o.metrics, () => keys().map((fn) => [fn, scaler.inflight(fn)] as const));
  const metering = new Metering({ store, namespace, metrics: usageMetrics, usage });
  const proxy: ProxyDeps = { scaler, metrics, metering, logger: o.logger, agent, waitMs: o.coldStartWaitMs ?? 60_000 };
  const calls = new CallStore(o.engine.containers.db);
  const queueMetrics = new QueueMetrics(namespace, o.metrics, calls);
  const queue = new AsyncQueue({ calls, functions: store, namespace, logger: o.logger, metrics: queueMetrics, options: { ...DEFAULT_ASYNC, ...o.async } });
  const routes: GatewayRoute[] = [
    ...systemRoutes(() => [...store.namespaces(), ...secrets.namespaces()]),
    ...functionRoutes({ store, replicas, scaler, metrics, secrets, logs }),
    ...logRoutes({ store, logs }),
    ...secretRoutes({ secrets, usedBy: (ns, name) => secretUsers(store, ns, name) }),
    ...usageRoutes(usage),
    ...asyncCallRoutes({ calls, queue }),
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const { path, search } = splitUrl(req.url ?? '/');
    const fnMatch = /^\/function\/([^/]+)(\/.*)?$/.exec(path);
    if (fnMatch !== null) {
      await invoke(proxy, invokedKey(decodeURIComponent(fnMatch[1] ?? '')), fnMatch[2] ?? '', search, req, res);
      return;
    }
    const asyncMatch = /^\/async-function\/([^/]+)(\/.*)?$/.exec(path);
    if (asyncMatch !== null) {
      await acceptAsync({ calls, functions: store, namespace, queue, metrics: queueMetrics }, decodeURIComponent(asyncMatch[1] ?? ''), asyncMatch[2] ?? '', search, req, res);
      return;
    }
    // What reads the accounting (metrics, invocation counts, usage) sees every call the relay answered before it was asked.
    if (relay !== undefined && (path === '/metrics' || path.startsWith('/system/'))) await relay.sync();
    // A function may call functions (OpenFaaS's chaining), not manage them: a replica's own address is refused the rest.
    const caller = replicas.atAddress(sourceAddress(req));
    if (caller !== undefined) {
      req.resume();
      send(res, { status: 403, text: `${method} ${path}: forbidden to a replica of function "${caller}": it may call /function/ and /async-function/ only\n` });
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      send(res, { status: 200, text: o.metrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' });
      return;
    }
    if (path.startsWith('/system/') && !authorized(req.headers.authorization, credentials)) {
      req.resume();
      res.setHeader('WWW-Authenticate', `Basic realm="${AUTH_REALM}"`);
      send(res, { status: 401, text: 'Unauthorized\n' });
      return;
    }
    let found: { route: GatewayRoute; params: Record<string, string> } | undefined;
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (m === null) continue;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      found = { route: r, params };
      break;
    }
    if (found === undefined) throw notFound('faas_route_not_found', `page not found: ${method} ${path}`);
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const reply = await found.route.handler({
      signal: gone.signal,
      params: found.params,
      query: new URLSearchParams(search),
      json: async () => {
        const body = await readCapped(req, MAX_BODY_BYTES);
        if (body.length === 0) return undefined;
        try {
          return JSON.parse(body.toString('utf8')) as unknown;
        } catch (err) {
          throw invalidArgument('faas_body_invalid', `request body: not JSON (${describeError(err)})`);
        }
      },
    });
    send(res, reply);
  };

  // requestTimeout 0: an invocation may stream its body for as long as the function takes it.
  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = httpStatusFor(err);
      if (status >= 500) o.logger.warn('gateway request failed', { method: req.method, url: req.url, err });
      req.resume();
      if (res.headersSent) res.destroy();
      else send(res, { status, text: `${describeError(err)}\n` });
    });
  });
  const relayBinary = relayPath();
  const useRelay = o.relay ?? existsSync(relayBinary);
  // With the relay, a plain listener is bound here (errors and port 0 as before) and its socket given to it.
  const listening: Server | NetServer = useRelay ? createListener() : server;
  try {
    await listenOn(listening, o.fd ?? { port: o.port, host: o.host });
  } catch (err) {
    scaler.close();
    autoscaler.close();
    usage.close();
    replicas.close();
    agent.destroy();
    throw unavailable('faas_gateway_listen_failed', `functions gateway: cannot listen on ${o.host}:${o.port}: ${describeError(err)}`, { cause: err });
  }
  const address = listening.address() as AddressInfo;
  const fd = useRelay ? handleFd(listening) : undefined;
  // The HTTP server gets its connections from the relay (or this listener); 'listening' sets up its tracking of them (close, timeouts).
  if (useRelay) server.emit('listening');
  if (useRelay && fd === undefined) {
    // Not expected on Linux; the gateway then serves every call itself on the same socket.
    o.logger.warn('functions gateway: the listening socket has no descriptor for berth-relay; serving every call through Node.js');
    listening.on('connection', (s) => server.emit('connection', s));
  }
  // This process's own descriptor of the socket the relay is given: Node.js serves on it when the relay stops,
  // and berthd passes it on when it sleeps, with no moment when nothing holds the port.
  const spare = fd === undefined ? undefined : dupCloseOnExec(fd);
  let fallback: NetServer | undefined;
  const serveHere = (): void => {
    if (fallback !== undefined || spare === undefined) return;
    const again = createListener((s) => server.emit('connection', s));
    again.once('error', (err) => o.logger.warn('functions gateway: cannot listen again', { err }));
    again.listen({ fd: spare });
    fallback = again;
  };
  if (fd !== undefined) {
    const deps = { binary: relayBinary, http: server, replicas, scaler, metering, metrics, logger: o.logger };
    const onExit = (why: string): void => {
      o.logger.warn('functions gateway: berth-relay stopped; serving every call through Node.js', { why });
      relay = undefined;
      serveHere();
    };
    relay = new Relay({ ...deps, listener: listening, fd, onExit });
    for (const fn of keys()) relay.update(fn);
  }
  const open = countConnections(server);
  o.logger.info('gateway listening', { host: address.address, port: address.port, relay: relay !== undefined, credentials: `${o.root}/secrets/basic-auth-{user,password}` });
  // Replicas a previous berthd left are adopted once the gateway takes requests.
  void replicas.start().catch((err: unknown) => o.logger.warn('function replicas not reconciled at start', { err }));
  // Queued calls go through this gateway's own /function/ path (a wildcard address is reached on loopback).
  queue.start({ host: address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address, port: address.port });
  return {
    address,
    credentials,
    sleepBusy() {
      const deployed = keys();
      if (deployed.length > 0) return `${deployed.length} function(s) deployed`;
      const owed = calls.count('queued') + calls.count('running');
      if (owed > 0) return `${owed} async call(s) owed`;
      return open() > 0 ? `${open()} gateway connection(s) open` : undefined;
    },
    async prepareSleep() {
      const r = relay;
      relay = undefined;
      await r?.close();
      serveHere();
    },
    listeningFd() {
      return fallback !== undefined ? handleFd(fallback) : relay === undefined && spare === undefined ? handleFd(listening) : spare;
    },
    async close() {
      await queue.close();
      scaler.close();
      autoscaler.close();
      replicas.close();
      await relay?.close();
      fallback?.close();
      if (fallback === undefined && spare !== undefined) closeSync(spare);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const t = setTimeout(() => server.closeAllConnections(), 5_000);
      t.unref();
      await closed;
      clearTimeout(t);
      usage.close();
      agent.destroy();
    },
  };
}

/** A request's source address, IPv4 as the replicas' addresses are written (a dual-stack socket maps it into IPv6). */
function sourceAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
