/**
 * The gateway's data path for warm calls: berth-relay (native/relay), one
 * C process per gateway, owns the listening socket. Why: Node.js's HTTP
 * server and client cost ~0.3 ms of CPU per proxied request, so the
 * gateway answered a static server's calls at 0.05× the server's own rate
 * (2 cores). Measured before choosing (2 cores, `ab -k -c 16`, a static C
 * server on the host): the server alone 60-65k req/s; behind a bare C byte
 * pump (epoll, no parsing) 31-39k; behind a thread per direction 31-35k.
 * So no hop in user space keeps 0.8× of a server that cheap here, and the
 * hop had to be as thin as that pump. Handing the client's socket into
 * the function's container would spare the hop only for replicas running
 * berth's watchdog, not for images serving :8080 themselves, and would
 * put the gateway's accounting inside containers that must not be trusted
 * with it; so the relay stays in berthd's hands, beside it.
 *
 * The relay reads every request head with MSG_PEEK. A plain request for
 * `/function/NAME[/path]` whose function has a ready replica in its table
 * it serves itself (src: native/relay/call.c); anything else (/system, a
 * function at zero, a chunked or large body, Upgrade, Expect) it hands
 * over untouched, the socket's descriptor sent on Node.js's IPC channel,
 * and the gateway's HTTP server serves that connection from then on, as
 * before. What the gateway promises stays its own: the relay reports each
 * call's start and end (status, duration, the watchdog's usage) once per
 * turn of its loop, and they go through the same Scaler, Metering and
 * metrics as a call proxied here (proxy.ts); a function with a memory
 * limit is not relayed (a call killed by it is named by reading its
 * cgroup's OOM count around the call). A replica that drains leaves the
 * table first, and its in-flight count is trusted only after the relay
 * acknowledged that (sync), so no call is sent to a replica being removed.
 *
 * The channel is a socketpair between berthd and its child: no path in
 * the file system, nothing another process or a container can reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { join } from 'node:path';
import { buildDir } from '../paths.ts';
import type { FaasLogger } from './log.ts';
import type { Call, Metering } from './metering.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Replica, Replicas } from './replicas.ts';
import type { Scaler } from './scaler.ts';

/** The relay on the host: BERTH_RELAY, or build/berth-relay beside the bundle. */
export function relayPath(): string {
  const env = process.env['BERTH_RELAY'];
  return env !== undefined && env !== '' ? env : join(buildDir(), 'berth-relay');
}

export interface RelayDeps {
  binary: string;
  /** Listening, with its descriptor `fd`: that becomes the relay's (fd 4); Node.js stops accepting on it. */
  listener: NetServer;
  fd: number;
  /** Serves the connections the relay hands over. */
  http: HttpServer;
  replicas: Replicas;
  scaler: Scaler;
  metering: Metering;
  metrics: GatewayMetrics;
  logger: FaasLogger;
  /** The relay exited on its own: the gateway listens again without it. */
  onExit: (why: string) => void;
}

interface Open {
  replica: Replica;
  /** Calls begun and not ended, oldest first (the relay's ends name the replica, not the call: they are alike). */
  calls: Call[];
}

export class Relay {
  private readonly child: ChildProcess;
  private readonly open = new Map<number, Open>();
  private readonly indexOf = new WeakMap<Replica, number>();
  private readonly syncs = new Map<number, () => void>();
  private nextIndex = 1;
  private seq = 0;
  private closing = false;
  private exited = false;
  private readonly d: RelayDeps;

  constructor(d: RelayDeps) {
    this.d = d;
    this.child = spawn(d.binary, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', d.fd] });
    d.listener.close();
    this.child.on('message', (m: unknown, handle: unknown) => {
      if (handle !== undefined && handle !== null) this.adopt(handle as Socket);
      else if (typeof m === 'string') this.reports(m);
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      for (const resolve of this.syncs.values()) resolve();
      this.syncs.clear();
      this.endAll();
      if (!this.closing) d.onExit(`berth-relay exited (${signal ?? `status ${code}`})`);
    });
    this.child.on('error', (err) => d.logger.warn('berth-relay failed', { err }));
  }

  /** A connection the relay leaves to the gateway's HTTP server, nothing of it read. */
  private adopt(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.d.http.emit('connection', socket);
  }

  /** The function's ready replicas as the relay's table has them (none: the gateway serves its calls). */
  update(fn: string): void {
    if (this.exited) return;
    for (const [i, o] of this.open) if (o.replica.fn === fn && o.replica.state === 'gone' && o.calls.length === 0) this.open.delete(i);
    const ready = this.d.replicas.of(fn).filter((r) => r.state === 'ready' && r.address !== undefined && /^[0-9.]+$/.test(r.address));
    const first = ready[0];
    const limits = first === undefined ? undefined : this.d.metering.limitsOf(fn, first.revision);
    const rows = limits === undefined || limits.memoryBytes !== undefined ? [] : ready.map((r) => `${this.index(r)}:${r.address}:${r.port}:${r.watchdog ? 1 : 0}`);
    const reason = (limits?.timeoutReason ?? '-').replace(/ /g, '+');
    this.send(['f', fn, String(limits?.timeoutMs ?? 0), reason, ...rows].join(' '));
  }

  /**
   * Resolves once the relay has taken every message sent before (its
   * reports up to then have been counted); after 1 s regardless, so a relay
   * that hangs cannot hold the gateway's own pages.
   */
  sync(): Promise<void> {
    if (this.exited) return Promise.resolve();
    const n = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.syncs.delete(n);
        resolve();
      }, 1_000);
      this.syncs.set(n, () => {
        clearTimeout(timer);
        resolve();
      });
      this.send(`s ${n}`);
    });
  }

  private index(r: Replica): number {
    let i = this.indexOf.get(r);
    if (i === undefined) {
      i = this.nextIndex++;
      this.indexOf.set(r, i);
      this.open.set(i, { replica: r, calls: [] });
    }
    return i;
  }

  private send(line: string): void {
    if (this.child.connected) this.child.send(line);
  }

  /** One turn's reports: "b IDX", "e IDX STATUS DURATION_US USAGE", "a N"; counted per replica, in order. */
  private reports(batch: string): void {
    const turn = new Map<Open, { begun: number; ends: string[][] }>();
    const acks: number[] = [];
    for (const line of batch.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'a') {
        acks.push(Number(f[1]));
        continue;
      }
      const o = this.open.get(Number(f[1]));
      if (o === undefined) continue;
      let t = turn.get(o);
      if (t === undefined) turn.set(o, (t = { begun: 0, ends: [] }));
      if (f[0] === 'b') t.begun++;
      else if (f[0] === 'e') t.ends.push(f);
    }
    for (const [o, t] of turn) this.count(o, t.begun, t.ends);
    // After the calls they follow: a sync's caller then sees every call the relay began before it.
    for (const n of acks) {
      this.syncs.get(n)?.();
      this.syncs.delete(n);
    }
  }

  private count(o: Open, begun: number, ends: string[][]): void {
    const fn = o.replica.fn;
    let ended = 0;
    this.d.metering.batch(
      o.replica,
      () => {
        for (let i = 0; i < begun; i++) o.calls.push(this.d.metering.begin(fn, o.replica));
        o.replica.inflight += begun;
      },
      () => {
        for (const f of ends) {
          const call = o.calls.shift();
          if (call === undefined) continue;
          ended++;
          const status = Number(f[2]);
          const us = Number(f[3]);
          const usage = /^(\d+),(\d+)$/.exec(f[4] ?? '');
          call.relayed(usage === null ? undefined : { cpuUs: Number(usage[1]), maxRssKb: Number(usage[2]) }, status);
          call.end(status, us / 1000);
          this.d.metrics.invoked(fn, status, us / 1e6);
        }
        o.replica.inflight -= ended;
      },
    );
    this.d.scaler.relayed(fn, begun, ended);
  }

  /** The relay is gone: what it had in flight ended with it (as a lost connection). */
  private endAll(): void {
    for (const o of this.open.values()) {
      const calls = o.calls.splice(0);
      for (const c of calls) c.end(502);
      o.replica.inflight -= calls.length;
      this.d.scaler.relayed(o.replica.fn, 0, calls.length);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await gone;
  }
}
