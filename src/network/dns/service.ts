/**
 * berthd's one resolver service for its user networks. It listens on each
 * network's gateway address (UDP and TCP, port 53) and answers for the
 * names of that network from a ResolverZone (answer.ts), forwarding the
 * rest to the host's resolvers (forward.ts).
 *
 *   const dns = DnsService.create({ zone, upstreams: hostUpstreams(readFileSync('/etc/resolv.conf', 'utf8')) });
 *   await dns.listen('10.89.0.1');        // per network with DNS on; returns the port bound (port 0 in tests:
 *                                         // one free port for UDP and TCP alike); again on the address: its port
 *   dns.port('10.89.0.1'); dns.addresses();
 *   await dns.unlisten('10.89.0.1');      // when the network goes
 *   dns.setUpstreams([...]);              // when the host's resolv.conf changes
 *   dns.stats();                          // counters for Prometheus
 *   await dns.close();                    // every socket closed, every forward cancelled
 *
 * A flood cannot exhaust berthd: at most `maxInFlight` forwarded queries
 * at once (more get SERVFAIL at once), at most `maxTcpConnections` TCP
 * connections over all listeners (more are closed on arrival), a TCP
 * connection idle for `tcpIdleMs` (nothing received, nothing awaiting
 * its answer) is closed, one with `MAX_PIPELINED`
 * queries outstanding is not read until some are answered, and one whose
 * client does not read its answers is dropped past MAX_UNREAD_BYTES.
 * A listen that fails is a `dns_listen_failed` error naming the address,
 * the port and UDP or TCP; upstreams that are berth's own listeners are
 * never asked. Hostile packets get FORMERR or silence (wire.ts reads every input
 * without throwing); nothing a packet or the zone does escapes the
 * service as an exception.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { setMaxListeners } from 'node:events';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { describeError, errnoCode, invalidArgument, unavailable } from '../../errors.ts';
import { answerLocally, type ResolverZone } from './answer.ts';
import { forward } from './forward.ts';
import { FrameReader, frame } from './framing.ts';
import { parseUpstream, type Upstream } from './upstream.ts';
import { MAX_MESSAGE_BYTES, RCode, errorReply, parseQuery, reply, type Query } from './wire.ts';

export type { ResolverZone } from './answer.ts';

export interface DnsServiceOptions {
  zone: ResolverZone;
  /** "ip", "ip:port" or "[v6]:port", asked in this order. */
  upstreams: string[];
  /** Diagnostics: listen, unlisten, an upstream failing, too many forwards at once (each at most once per 10 s), the zone throwing. */
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** How long one upstream has to answer one query (default 2000 ms). */
  timeoutMs?: number;
  maxInFlight?: number;
  maxTcpConnections?: number;
  tcpIdleMs?: number;
}

export interface DnsStats {
  /** Messages read as queries (answered, forwarded, refused or failed). */
  queries: number;
  /** Answered from the zone. */
  answered: number;
  /** Answered by an upstream. */
  forwarded: number;
  refused: number;
  /** Answered SERVFAIL, FORMERR or NOTIMP. */
  failed: number;
}

const DEFAULTS = { timeoutMs: 2000, maxInFlight: 256, maxTcpConnections: 128, tcpIdleMs: 10_000 };
/** Queries one TCP connection may have outstanding before it is no longer read. */
const MAX_PIPELINED = 16;
/** Answers one TCP connection may leave unread before it is dropped. */
const MAX_UNREAD_BYTES = 256 * 1024;
const LOG_INTERVAL_MS = 10_000;
/** Attempts at finding a port free for both UDP and TCP when asked for port 0. */
const PORT_ATTEMPTS = 8;

interface Listener {
  readonly address: string;
  readonly port: number;
  readonly udp: UdpSocket;
  readonly tcp: Server;
  readonly connections: Set<Socket>;
  /** Aborts the forwards of this listener's queries when it closes. */
  readonly abort: AbortController;
}

type Transport = 'udp' | 'tcp';

export class DnsService {
  readonly #zone: ResolverZone;
  readonly #log: (event: string, fields: Record<string, unknown>) => void;
  readonly #opts: typeof DEFAULTS;
  #upstreams: Upstream[];
  readonly #listeners = new Map<string, Listener>();
  readonly #starting = new Map<string, Promise<number>>();
  readonly #stats: DnsStats = { queries: 0, answered: 0, forwarded: 0, refused: 0, failed: 0 };
  readonly #lastLogged = new Map<string, number>();
  #inFlight = 0;
  #tcpConnections = 0;
  #turn = 0;

  private constructor(opts: DnsServiceOptions) {
    this.#zone = opts.zone;
    this.#log = opts.log ?? (() => undefined);
    this.#opts = {
      timeoutMs: positive(opts.timeoutMs, 'timeoutMs') ?? DEFAULTS.timeoutMs,
      maxInFlight: positive(opts.maxInFlight, 'maxInFlight') ?? DEFAULTS.maxInFlight,
      maxTcpConnections: positive(opts.maxTcpConnections, 'maxTcpConnections') ?? DEFAULTS.maxTcpConnections,
      tcpIdleMs: positive(opts.tcpIdleMs, 'tcpIdleMs') ?? DEFAULTS.tcpIdleMs,
    };
    this.#upstreams = opts.upstreams.map(parseUpstream);
  }

  static create(opts: DnsServiceOptions): DnsService {
    return new DnsService(opts);
  }

  /** Listens on `address` (UDP and TCP, one port); the port bound. Listening again on an address returns its port. */
  listen(address: string, port = 53): Promise<number> {
    const existing = this.#listeners.get(address);
    if (existing !== undefined) return Promise.resolve(existing.port);
    const starting = this.#starting.get(address);
    if (starting !== undefined) return starting;
    const p = this.#open(address, port).finally(() => this.#starting.delete(address));
    this.#starting.set(address, p);
    return p;
  }

  /** The port bound on `address`, undefined when not listening there. */
  port(address: string): number | undefined {
    return this.#listeners.get(address)?.port;
  }

  /** The addresses listened on. */
  addresses(): string[] {
    return [...this.#listeners.keys()];
  }

  async unlisten(address: string): Promise<void> {
    await this.#starting.get(address)?.catch(() => undefined);
    const l = this.#listeners.get(address);
    if (l === undefined) return;
    this.#listeners.delete(address);
    l.abort.abort();
    for (const c of l.connections) c.destroy();
    await Promise.all([new Promise<void>((resolve) => l.udp.close(() => resolve())), new Promise<void>((resolve) => l.tcp.close(() => resolve()))]);
    this.#log('dns.unlisten', { address, port: l.port });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#starting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.#listeners.keys()].map((a) => this.unlisten(a)));
  }

  setUpstreams(upstreams: string[]): void {
    this.#upstreams = upstreams.map(parseUpstream);
  }

  stats(): DnsStats {
    return { ...this.#stats };
  }

  async #open(address: string, port: number): Promise<number> {
    if (isIP(address) === 0) throw invalidArgument('dns_listen_address_invalid', `dns: listen address "${address}" is not an IP address`);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalidArgument('dns_listen_address_invalid', `dns: listen port ${port} on "${address}" is not 0 to 65535`);
    for (let attempt = 1; ; attempt++) {
      const udp = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
      try {
        await bindUdp(udp, address, port);
      } catch (err) {
        throw listenFailed(address, port, 'udp', err);
      }
      const bound = udp.address().port;
      const tcp = createServer();
      try {
        await listenTcp(tcp, address, bound);
      } catch (err) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        // Port 0 gave a UDP port whose TCP twin is taken: draw another.
        if (port === 0 && attempt < PORT_ATTEMPTS && errnoCode(err) === 'EADDRINUSE') continue;
        throw listenFailed(address, bound, 'tcp', err);
      }
      const l: Listener = { address, port: bound, udp, tcp, connections: new Set(), abort: new AbortController() };
      setMaxListeners(this.#opts.maxInFlight * 2 + 16, l.abort.signal);
      udp.on('message', (msg, rinfo) => this.#onDatagram(l, msg, rinfo));
      udp.on('error', (err) => this.#log('dns.udp_error', { address, error: describeError(err) }));
      tcp.on('connection', (sock) => this.#onConnection(l, sock));
      tcp.on('error', (err) => this.#log('dns.tcp_error', { address, error: describeError(err) }));
      this.#listeners.set(address, l);
      this.#log('dns.listen', { address, port: bound });
      return bound;
    }
  }

  #onDatagram(l: Listener, msg: Buffer, rinfo: RemoteInfo): void {
    void this.#respond(l, msg, rinfo.address, 'udp').then((out) => {
      if (out === undefined || this.#listeners.get(l.address) !== l) return;
      try {
        l.udp.send(out, rinfo.port, rinfo.address, () => undefined);
      } catch {
        // closed in the meantime: the client asks again elsewhere
      }
    });
  }

  #onConnection(l: Listener, sock: Socket): void {
    if (this.#tcpConnections >= this.#opts.maxTcpConnections || this.#listeners.get(l.address) !== l) {
      sock.destroy();
      return;
    }
    this.#tcpConnections++;
    l.connections.add(sock);
    sock.on('close', () => {
      this.#tcpConnections--;
      l.connections.delete(sock);
    });
    sock.on('error', () => undefined);
    const source = sock.remoteAddress ?? '';
    const reader = new FrameReader();
    // Messages read but not yet handled: one chunk may hold many, and the cap holds within a chunk too.
    let queue: Buffer[] = [];
    let outstanding = 0;
    // Idle means nothing outstanding either: a slow forward must not cost the client its connection.
    sock.setTimeout(this.#opts.tcpIdleMs, () => {
      if (outstanding === 0) sock.destroy();
    });
    const pump = (): void => {
      while (outstanding < MAX_PIPELINED && queue.length > 0) {
        const [msg, ...rest] = queue;
        queue = rest;
        if (msg === undefined) break;
        outstanding++;
        void this.#respond(l, msg, source, 'tcp').then((out) => {
          outstanding--;
          if (sock.destroyed) return;
          if (out !== undefined) sock.write(frame(out));
          if (sock.writableLength > MAX_UNREAD_BYTES) sock.destroy();
          else pump();
        });
      }
      if (queue.length > 0) sock.pause();
      else sock.resume();
    };
    sock.on('data', (chunk: Buffer) => {
      queue.push(...reader.push(chunk));
      pump();
    });
  }

  /** The reply to one message, or undefined for silence. Never rejects. */
  async #respond(l: Listener, msg: Buffer, source: string, transport: Transport): Promise<Buffer | undefined> {
    const parsed = parseQuery(msg);
    if (parsed.kind === 'silent') return undefined;
    this.#stats.queries++;
    if (parsed.kind === 'error') {
      this.#stats.failed++;
      return errorReply(parsed.id, parsed.flags, parsed.rcode);
    }
    const query = parsed.query;
    const limit = transport === 'tcp' ? MAX_MESSAGE_BYTES : query.udpLimit;
    let local: Buffer | undefined;
    try {
      if (!this.#zone.allowed(l.address, source)) {
        this.#stats.refused++;
        return reply(query, RCode.Refused, [], limit);
      }
      local = answerLocally(this.#zone, l.address, source, query, limit, this.#turn++);
    } catch (err) {
      this.#log('dns.zone_failed', { address: l.address, name: query.name, error: describeError(err) });
      this.#stats.failed++;
      return reply(query, RCode.ServFail, [], limit);
    }
    if (local !== undefined) {
      this.#stats.answered++;
      return local;
    }
    const relayed = await this.#forward(l, query, msg, limit, source);
    if (relayed !== undefined) {
      this.#stats.forwarded++;
      return relayed;
    }
    this.#stats.failed++;
    return reply(query, RCode.ServFail, [], limit);
  }

  async #forward(l: Listener, query: Query, msg: Buffer, limit: number, source: string): Promise<Buffer | undefined> {
    if (this.#inFlight >= this.#opts.maxInFlight) {
      this.#rateLimitedLog('overloaded', 'dns.overloaded', { inFlight: this.#inFlight });
      return undefined;
    }
    // Never ask ourselves: a host whose resolv.conf names a gateway of berth's would loop each query until it timed out.
    const own = this.#zone.upstreams?.(l.address, source);
    const chosen = own === undefined || own.length === 0 ? this.#upstreams : own.map(parseUpstream);
    const upstreams = chosen.filter((u) => this.#listeners.get(u.host)?.port !== u.port);
    this.#inFlight++;
    try {
      return await forward(upstreams, query, msg, limit, {
        timeoutMs: this.#opts.timeoutMs,
        signal: l.abort.signal,
        failed: (up, reason) => this.#upstreamFailed(up, reason),
      });
    } catch (err) {
      this.#log('dns.forward_failed', { error: describeError(err) });
      return undefined;
    } finally {
      this.#inFlight--;
    }
  }

  #upstreamFailed(up: Upstream, reason: string): void {
    this.#rateLimitedLog(`upstream ${up.text}`, 'dns.upstream_failed', { upstream: up.text, reason });
  }

  /** Logs `event` at most once per interval per `key`: a dead upstream or a flood must not flood the log too. */
  #rateLimitedLog(key: string, event: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.#lastLogged.get(key);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) return;
    this.#lastLogged.set(key, now);
    this.#log(event, fields);
  }
}

function positive(v: number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0) throw invalidArgument('dns_option_invalid', `dns: ${field} ${v} is not a positive number`);
  return v;
}

function listenFailed(address: string, port: number, proto: Transport, cause: unknown) {
  return unavailable('dns_listen_failed', `dns: cannot listen on ${address} port ${port}/${proto}: ${describeError(cause)}`, {
    cause,
    details: { address, port, proto },
  });
}

function bindUdp(sock: UdpSocket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ address, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

function listenTcp(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
