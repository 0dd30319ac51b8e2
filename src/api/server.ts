/**
 * The HTTP server of berthd (node:http), speaking the Docker Engine API's
 * conventions: routes from src/api/router.ts, the `/vX.Y` prefix split off
 * and checked, JSON bodies under a cap, every failure a `{"message": ...}`
 * with the status src/error-status.ts gives its error (an unknown route is
 * a 404 naming the method and the path), dockerd's headers on every answer
 * (Api-Version, Server, Ostype), streams with backpressure and hijacked
 * connections (src/api/sink.ts). close() stops taking connections, lets
 * requests in flight finish and ends streams and hijacks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { httpStatusFor } from '../error-status.ts';
import { describeError, invalidArgument, notFound } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES, declaredLength, parseJsonBody, readBody, readUpgradeBody } from './body.ts';
import { silentLogger, type Logger } from './log.ts';
import { MetricsRegistry, type Counter } from './metrics.ts';
import { Query } from './query.ts';
import type { ApiRequest, Headers, Reply } from './reply.ts';
import { API_VERSION, Router, splitVersion } from './router.ts';
import { ResponseSink, UpgradeSink, type Sink } from './sink.ts';
import { countConnections, handleFd, listenOn } from '../sys/listening.ts';
import { adoptUnix, listenUnix, type ListenOptions, type UnixListener } from './socket.ts';

export interface ApiServerOptions {
  logger?: Logger;
  metrics?: MetricsRegistry;
  maxBodyBytes?: number;
  /** The Server header, as dockerd's `Docker/24.0.7 (linux)`. */
  serverName?: string;
}

interface InFlight {
  readonly controller: AbortController;
  sink: Sink;
  /** A stream or a hijack runs until its client or the daemon ends it; a call answers once. */
  kind: 'call' | 'stream' | 'hijack';
}

interface Input {
  /** The whole body (memoised: both json() and the hijack's set-up may ask). */
  read(): Promise<Buffer>;
  stream(): Readable;
}

function splitUrl(url: string): { rawPath: string; search: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, search: '' } : { rawPath: url.slice(0, q), search: url.slice(q + 1) };
}

export class ApiServer {
  readonly router = new Router();
  readonly http: Server;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  private readonly maxBody: number;
  private readonly baseHeaders: Headers;
  private readonly requests: Counter;
  private readonly inflight = new Set<InFlight>();
  private drained: (() => void) | undefined;
  private listener: UnixListener | undefined;
  private readonly tcp: NetServer[] = [];
  private readonly connections: () => number;

  constructor(options: ApiServerOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.baseHeaders = {
      'Api-Version': API_VERSION,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
      Server: options.serverName ?? 'berth (linux)',
    };
    this.requests = this.metrics.counter('berth_api_requests_total', 'API requests answered, by method, route pattern and status');
    this.metrics.collect('berth_api_requests_in_flight', 'API requests being answered, streams and hijacked connections included', () => this.inflight.size);
    // requestTimeout 0: a hijacked request without upgrade carries the client's input as its body, for as long as it lasts.
    this.http = createServer({ requestTimeout: 0, shouldUpgradeCallback: (req) => this.isHijackRoute(req) });
    this.http.on('request', (req, res) => void this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => void this.onUpgrade(req, socket, head));
    this.connections = countConnections(this.http);
  }

  /** Connections open now, on every address (an idle keep-alive one too): berthd sleeps only with none (src/api/sleep.ts). */
  get openConnections(): number {
    return this.connections();
  }

  /** The listening descriptors, by the names src/api/activation.ts gives them: berthd passes them on when it sleeps. */
  listeningDescriptors(): { name: string; fd: number }[] {
    const out: { name: string; fd: number }[] = [];
    const api = handleFd(this.http);
    if (api !== undefined) out.push({ name: 'api', fd: api });
    this.tcp.forEach((t, i) => {
      const fd = handleFd(t);
      if (fd !== undefined) out.push({ name: tcpName(i), fd });
    });
    return out;
  }

  /** Listens on a unix socket (src/api/socket.ts: mode 0660, a stale file replaced, a live one refused). */
  async listen(path: string, options: ListenOptions = {}, inherited?: number): Promise<void> {
    this.listener = inherited === undefined ? await listenUnix(this.http, path, options) : await adoptUnix(this.http, path, inherited);
  }

  /**
   * Also serves on a TCP address (dockerd's -H tcp://): the same routes,
   * no authentication. Whoever reaches it is root on this host; berthd only
   * listens there when asked, and says so. The bound port (0: a free one).
   */
  async listenTcp(host: string, port: number, inherited?: number): Promise<number> {
    const server = createNetServer((sock) => this.http.emit('connection', sock));
    await listenOn(server, inherited ?? { port, host });
    this.tcp.push(server);
    return (server.address() as AddressInfo).port;
  }

  get socketPath(): string | undefined {
    return this.listener?.path;
  }

  /**
   * Stops: no new connections; requests in flight get `graceMs` to finish,
   * streams are ended at once (their sources see the abort) and hijacked
   * connections cut; then whatever is left is cut and the socket file removed.
   */
  async close(graceMs = 10_000): Promise<void> {
    for (const t of this.tcp.splice(0)) t.close();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    for (const f of this.inflight) {
      if (f.kind !== 'call') f.controller.abort();
      // An attached client (docker attach, exec) is cut as dockerd cuts it when stopping; its container is not touched.
      if (f.kind === 'hijack') f.sink.destroy();
    }
    if (this.inflight.size > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const f of this.inflight) f.sink.destroy();
    this.http.closeAllConnections();
    await closed;
    this.listener?.remove();
  }

  private isHijackRoute(req: IncomingMessage): boolean {
    try {
      const { path } = splitVersion(splitUrl(req.url ?? '/').rawPath);
      return this.router.match(req.method ?? 'GET', path)?.route.hijack ?? false;
    } catch {
      return false; // the request path answers the error
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: InFlight = { controller: new AbortController(), sink: new ResponseSink(req, res), kind: 'call' };
    res.on('close', () => {
      if (!res.writableFinished) entry.controller.abort();
    });
    let body: Promise<Buffer> | undefined;
    const input: Input = {
      read: () => (body ??= (async () => {
        declaredLength(req.headers['content-length'], this.maxBody);
        return readBody(req, this.maxBody);
      })()),
      stream: () => req,
    };
    await this.dispatch(req, entry, input);
  }

  private async onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const entry: InFlight = { controller: new AbortController(), sink: new UpgradeSink(socket), kind: 'call' };
    socket.on('close', () => entry.controller.abort());
    socket.on('error', (err) => this.logger.debug('connection error', { err }));
    let body: Promise<Buffer> | undefined;
    const read = (): Promise<Buffer> =>
      (body ??= (async () => {
        if (req.headers['transfer-encoding'] !== undefined) throw invalidArgument('api_body_invalid', 'request body: an upgrade request takes a Content-Length body, not a chunked one');
        return readUpgradeBody(socket, head, declaredLength(req.headers['content-length'], this.maxBody) ?? 0);
      })());
    const input: Input = { read, stream: () => Readable.from((async function* () { yield await read(); })()) };
    await this.dispatch(req, entry, input);
  }

  private async dispatch(req: IncomingMessage, entry: InFlight, input: Input): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const { rawPath, search } = splitUrl(req.url ?? '/');
    let route = 'unmatched';
    this.inflight.add(entry);
    try {
      const { version, path } = splitVersion(rawPath);
      const match = this.router.match(method, path);
      if (match === undefined) throw notFound('api_route_not_found', `page not found: ${method} ${rawPath}`);
      route = match.route.pattern;
      const apiReq: ApiRequest = {
        method,
        path,
        version,
        route,
        params: match.params,
        query: new Query(new URLSearchParams(search)),
        headers: req.headers,
        json: async () => parseJsonBody(await input.read(), req.headers['content-type']),
        get body() {
          return input.stream();
        },
        signal: entry.controller.signal,
      };
      const reply = await match.route.handler(apiReq);
      await this.write(reply, entry, input);
    } catch (err) {
      this.fail(err, entry.sink, method, rawPath);
    } finally {
      this.inflight.delete(entry);
      if (this.inflight.size === 0) this.drained?.();
      const status = entry.sink.status ?? 0;
      this.requests.inc({ method, route, status: String(status) });
      this.logger.debug('request', { method, path: rawPath, route, status, ms: Math.round(performance.now() - started) });
    }
  }

  private async write(reply: Reply, entry: InFlight, input: Input): Promise<void> {
    const { sink } = entry;
    switch (reply.type) {
      case 'json': {
        const text = JSON.stringify(reply.value) ?? 'null';
        sink.whole(reply.status, { ...this.baseHeaders, 'Content-Type': 'application/json', ...reply.headers }, Buffer.from(`${text}\n`));
        return;
      }
      case 'bytes':
        sink.whole(reply.status, { ...this.baseHeaders, 'Content-Type': reply.contentType, ...reply.headers }, Buffer.from(reply.body));
        return;
      case 'empty':
        sink.whole(reply.status, { ...this.baseHeaders, ...reply.headers }, undefined);
        return;
      case 'stream':
        entry.kind = 'stream';
        await sink.stream(reply.status, { ...this.baseHeaders, 'Content-Type': reply.contentType, ...reply.headers }, reply.source, entry.controller.signal);
        return;
      case 'hijack':
        entry.kind = 'hijack';
        // An upgraded request's body (exec start's options) is taken off the socket before the stream begins.
        if (sink instanceof UpgradeSink) await input.read();
        await sink.hijack(reply.contentType, this.baseHeaders, reply.run);
        return;
    }
  }

  private fail(err: unknown, sink: Sink, method: string, path: string): void {
    const status = httpStatusFor(err);
    const message = describeError(err);
    if (status >= 500) this.logger.error('request failed', { method, path, status, err });
    if (sink.started) {
      // The head is out (a stream or a hijack failed midway): all that is left is to cut the connection.
      if (status < 500) this.logger.warn('stream failed', { method, path, err });
      sink.destroy();
      return;
    }
    sink.whole(status, { ...this.baseHeaders, 'Content-Type': 'application/json' }, Buffer.from(`${JSON.stringify({ message })}\n`));
  }
}

/** The name the descriptor of the i-th --api TCP address is passed under (src/api/activation.ts). */
export const tcpName = (i: number): string => `tcp${i}`;
