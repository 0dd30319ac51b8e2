/**
 * A function's replicas: ordinary engine containers labelled
 * com.openfaas.function=NAME, brought to the number its record wants.
 *
 * - Reconciliation is serial per function and idempotent: it starts what
 *   is missing, retires what is extra, and replaces replicas of an older
 *   revision (an update) only once a replica of the new one is ready, so
 *   traffic always has somewhere to go.
 * - Ready means the watchdog's /_/health answered 200 on the replica's
 *   bridge address, port 8080, when the replica runs berth's watchdog, and
 *   a TCP connect there otherwise: probed from the moment its program runs,
 *   every 1 ms at first, up to every 5 ms, until a deadline.
 * - A retired replica is drained first: it takes no new request and is
 *   removed once the requests it serves are answered (or a deadline passes).
 * - A replica that dies on its own (crash, kill) is removed and replaced,
 *   with a growing back-off while starts keep failing.
 * - At start the gateway adopts the replicas a previous berthd left running
 *   (containers outlive the daemon) and removes the rest.
 * - A function that went to zero keeps one prepared replica: a container
 *   created (its record, its rootfs snapshot mounted, its OCI spec written)
 *   and never started, so nothing of it runs. A request from zero starts it
 *   instead of creating one, which takes the image's config, the snapshot,
 *   the spec and four of the database's commits off the cold start. At zero
 *   it costs a record, an overlay mount with an empty upper directory and
 *   its spec (a few KiB on disk, no memory, no process); it is made only
 *   for a function that ran (one deployed at zero makes none), replaced at
 *   an update, removed with the function.
 * - The prepared replica is then primed (engine.prime): carried through the
 *   first half of its start (network namespace, berth-monitor, the
 *   runtime's create, its process blocked before execve), so a request from
 *   zero waits only for the runtime's start, readiness and the answer. A
 *   primed replica holds a monitor, one blocked process and a network
 *   namespace; the `primedMax` most recently used functions at zero keep
 *   theirs primed (berthd --faas-primed-max), the others a plain prepared
 *   one. A primed replica that cannot start is removed and a new replica
 *   created and started in its place, within the same request.
 * - The engine's record of a replica started for a request from zero says
 *   `running` only once that request is answered (at most 100 ms later:
 *   engine.start's holdRecord), so its synchronous commit does not block
 *   the event loop between readiness and the answer.
 */
import { EventEmitter } from 'node:events';
import { request, type Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ReplicaAgent } from './agent.ts';
import type { FaasLogger } from './log.ts';
import { delay } from '../delay.ts';
import type { Engine } from '../engine/engine.ts';
import type { ContainerRecord } from '../engine/store/containers.ts';
import { addressOf } from '../engine/networking.ts';
import { describeError, unavailable } from '../errors.ts';
import { LABEL_FUNCTION } from './deployment.ts';
import { functionKey, splitFunctionKey } from './namespaces.ts';
import { LABEL_NAMESPACE, LABEL_REVISION, LABEL_WATCHDOG, REPLICA_PORT, replicaOptions, runsWatchdog } from './replica-options.ts';
import type { FunctionRecord, FunctionStore } from './store.ts';
import type { ColdStart } from './trace.ts';
import { ReplicaCgroup } from './cgroup-usage.ts';
import { collectYoungSoon } from '../young-gc.ts';

export type ReplicaState = 'starting' | 'ready' | 'draining' | 'gone';

export interface Replica {
  readonly id: string;
  readonly name: string;
  readonly fn: string;
  readonly revision: number;
  address: string | undefined;
  /** Where its server listens (8080; another only in tests). */
  readonly port: number;
  /** Whether it runs berth's watchdog (ready on /_/health) or the image's own server (ready on a connect). */
  readonly watchdog: boolean;
  state: ReplicaState;
  inflight: number;
  /** Its cgroup, for metering and CPU-based autoscaling (once it is ready, when the runtime kept its paths). */
  cgroup?: ReplicaCgroup | undefined;
}

export interface ReplicaOptions {
  engine: Engine;
  store: FunctionStore;
  namespace: string;
  logger: FaasLogger;
  /** How long a new replica may take to accept a connection on :8080 (default 60 s). */
  readyTimeoutMs?: number;
  /** The gateway's keep-alive agent: the readiness probe's connection, left open, carries a cold start's first request. */
  agent?: Agent;
  /** The port replicas serve on (default 8080, OpenFaaS's). */
  replicaPort?: number;
  /** How long a retired replica may take to answer what it serves (default 30 s). */
  drainTimeoutMs?: number;
  /** A secret's file on the host, bound into replicas deployed with it (src/faas/secrets.ts). */
  secretFile?: (namespace: string, name: string) => string;
  /** Called before a replica's container is removed (its log is kept: src/faas/logs.ts). */
  keepLog?: (id: string) => void;
  /** How many functions at zero keep their prepared replica primed, the most recently used first (default 100; 0: none). */
  primedMax?: number;
  /** Told each time a function's replicas change (one became ready, draining or gone): the relay's table follows. */
  onChange?: (fn: string) => void;
  /** Awaited when a replica starts draining, before its in-flight count is trusted (the relay's calls are counted by then). */
  beforeDrain?: (r: Replica) => Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;
/** How long the watchdog holds a readiness probe's answer while the function starts (then it is asked again). */
const READY_WAIT_MS = 1_000;
export const DEFAULT_PRIMED_MAX = 100;
/** After a primed replica is taken, when the next function waiting for a place is primed (not while the cold start runs). */
const REPRIME_DELAY_MS = 1_000;

interface Prepared {
  id: string;
  name: string;
  revision: number;
  /** Primed by the engine (or being primed: its place is taken). */
  primed: boolean;
}

export class Replicas {
  private readonly sets = new Map<string, Replica[]>();
  /** The prepared replica (created, never started; maybe primed) of each function at zero. */
  private readonly prepared = new Map<string, Prepared>();
  /** When each function last had a replica picked or started (Date.now()): who keeps a primed replica. */
  private readonly lastUsed = new Map<string, number>();
  private readonly primedMax: number;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly changes = new EventEmitter();
  /** Why the last start of a function failed, until one succeeds. */
  private readonly failures = new Map<string, { error: unknown; count: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: () => void;
  private readonly readyTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly port: number;
  private closed = false;
  private rr = 0;

  private readonly o: ReplicaOptions;

  constructor(o: ReplicaOptions) {
    this.o = o;
    this.changes.setMaxListeners(0);
    this.readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
    this.drainTimeoutMs = o.drainTimeoutMs ?? 30_000;
    this.port = o.replicaPort ?? REPLICA_PORT;
    this.primedMax = o.primedMax ?? DEFAULT_PRIMED_MAX;
    this.unsubscribe = o.engine.events.subscribe((e) => {
      if (e.Type === 'container' && e.Action === 'die') this.onDied(e.Actor.ID);
    });
  }

  private changed(fn: string): void {
    this.changes.emit(fn);
    this.o.onChange?.(fn);
  }

  /** The replicas of a function, as the gateway knows them. */
  of(fn: string): readonly Replica[] {
    return this.sets.get(fn) ?? [];
  }

  /** The function whose replica has this address (a request's source), if any. */
  atAddress(ip: string): string | undefined {
    for (const [fn, set] of this.sets) if (set.some((r) => r.address === ip)) return fn;
    return undefined;
  }

  ready(fn: string): number {
    return this.of(fn).filter((r) => r.state === 'ready').length;
  }

  /** A ready replica, the least busy (round robin among equals); undefined when none is ready. */
  pick(fn: string): Replica | undefined {
    const ready = this.of(fn).filter((r) => r.state === 'ready');
    if (ready.length === 0) return undefined;
    const least = Math.min(...ready.map((r) => r.inflight));
    const best = ready.filter((r) => r.inflight === least);
    this.lastUsed.set(fn, Date.now());
    return best[this.rr++ % best.length];
  }

  /** The ID of the function's prepared replica when it is primed (or being primed); for tests. */
  primedOf(fn: string): string | undefined {
    const p = this.prepared.get(fn);
    return p?.primed === true ? p.id : undefined;
  }

  /**
   * A ready replica, waiting up to `timeoutMs` for one (a function scaled
   * from zero, or starting); refused at once when its starts keep failing.
   */
  async acquire(fn: string, timeoutMs: number, signal?: AbortSignal): Promise<Replica> {
    const deadline = Date.now() + timeoutMs;
    const seen = this.failures.get(fn)?.count ?? 0;
    for (;;) {
      const r = this.pick(fn);
      if (r !== undefined) return r;
      const failure = this.failures.get(fn);
      if (failure !== undefined && failure.count > seen) {
        throw unavailable('faas_replica_failed', `function "${fn}": no replica could start: ${describeError(failure.error)}`, { cause: failure.error });
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw unavailable('faas_replica_timeout', `function "${fn}": no replica became ready within ${Math.round(timeoutMs / 1000)}s`);
      if (signal?.aborted === true) throw unavailable('faas_replica_timeout', `function "${fn}": the request went away before a replica was ready`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.changes.off(fn, done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.changes.on(fn, done);
        signal?.addEventListener('abort', done);
      });
    }
  }

  /** Brings a function's replicas to what its record wants (or removes them all when it has none); serial per function. */
  reconcile(fn: string, trace?: ColdStart): Promise<void> {
    const prev = this.queues.get(fn) ?? Promise.resolve();
    const next = prev.then(() => this.reconcileNow(fn, trace)).catch((err: unknown) => this.o.logger.warn('function not reconciled', { function: fn, err }));
    this.queues.set(fn, next);
    void next.finally(() => {
      if (this.queues.get(fn) === next) this.queues.delete(fn);
    });
    return next;
  }

  /** Every function's replicas, after adopting what a previous berthd left. */
  async start(): Promise<void> {
    const wanted = new Map(this.o.store.namespaces().flatMap((ns) => this.o.store.list(ns)).map((r) => [functionKey(r.spec.namespace, r.spec.name), r]));
    for (const v of this.o.engine.list()) {
      const name = v.record.labels[LABEL_FUNCTION];
      if (name === undefined) continue;
      const fn = functionKey(v.record.labels[LABEL_NAMESPACE] ?? this.o.namespace, name);
      const rec = wanted.get(fn);
      const revision = Number(v.record.labels[LABEL_REVISION]);
      if (rec !== undefined && revision === rec.revision && v.record.state === 'running') {
        const watchdog = v.record.labels[LABEL_WATCHDOG] === 'true';
        const replica: Replica = { id: v.record.id, name: v.record.name, fn, revision, address: undefined, port: this.port, watchdog, state: 'starting', inflight: 0 };
        this.add(replica);
        void this.becomeReady(replica).catch(async (err: unknown) => {
          this.o.logger.warn('adopted replica not ready; replacing it', { function: fn, id: replica.id, err });
          if (replica.state === 'gone') return;
          this.drop(replica);
          await this.removeContainer(replica.id);
          await this.reconcile(fn);
        });
      } else if (rec !== undefined && revision === rec.revision && rec.replicas === 0 && v.record.state === 'created' && !this.prepared.has(fn)) {
        // A new engine un-primed it (recover): primed again by its reconciliation below, if it has a place.
        this.prepared.set(fn, { id: v.record.id, name: v.record.name, revision, primed: false });
      } else {
        await this.removeContainer(v.record.id);
      }
    }
    await Promise.all([...wanted.keys()].map((fn) => this.reconcile(fn)));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.changes.emit('closed');
  }

  private add(r: Replica): void {
    const set = this.sets.get(r.fn) ?? [];
    set.push(r);
    this.sets.set(r.fn, set);
  }

  private drop(r: Replica): void {
    r.state = 'gone';
    r.cgroup?.close();
    const set = (this.sets.get(r.fn) ?? []).filter((x) => x !== r);
    if (set.length === 0) this.sets.delete(r.fn);
    else this.sets.set(r.fn, set);
    this.changed(r.fn);
  }

  private async reconcileNow(fn: string, trace?: ColdStart): Promise<void> {
    if (this.closed) return;
    const { namespace, name } = splitFunctionKey(fn);
    const rec = this.o.store.get(namespace, name);
    const live = this.of(fn).filter((r) => r.state === 'starting' || r.state === 'ready');
    if (rec === undefined) {
      await Promise.all(this.of(fn).map((r) => this.retire(r)));
      await this.unprepare(fn);
      this.failures.delete(fn);
      this.lastUsed.delete(fn);
      return;
    }
    // One prepared for an older revision is replaced (the function was updated at zero).
    const wasPrepared = this.prepared.has(fn);
    if (wasPrepared && this.prepared.get(fn)?.revision !== rec.revision) await this.unprepare(fn);
    const current = live.filter((r) => r.revision === rec.revision);
    const extra = current.length - rec.replicas;
    if (extra > 0) {
      // The ones not yet ready go first: nothing is lost with them.
      const order = [...current].sort((a, b) => (a.state === b.state ? 0 : a.state === 'starting' ? -1 : 1));
      await Promise.all(order.slice(0, extra).map((r) => this.retire(r)));
    }
    if (extra < 0) await Promise.all(Array.from({ length: -extra }, () => this.startOne(rec, trace)));
    const old = this.of(fn).filter((r) => r.revision !== rec.revision && r.state !== 'gone' && r.state !== 'draining');
    if (old.length > 0 && (rec.replicas === 0 || this.of(fn).some((r) => r.revision === rec.revision && r.state === 'ready'))) {
      await Promise.all(old.map((r) => this.retire(r)));
    }
    // Only a function that ran: one deployed at zero, or whose starts fail, gets none.
    if (rec.replicas === 0 && (current.length > 0 || wasPrepared) && !this.prepared.has(fn) && !this.failures.has(fn)) await this.prepare(fn, rec);
    if (rec.replicas === 0) await this.primeIfRoom(fn);
  }

  /** Creates the function's next replica without starting it (see the header). */
  private async prepare(fn: string, rec: FunctionRecord): Promise<void> {
    try {
      const watchdog = rec.spec.envProcess !== undefined || runsWatchdog(rec.spec, await this.imageEnv(rec.spec.image));
      const created = await this.o.engine.create({ image: rec.spec.image, options: replicaOptions(rec.spec, rec.revision, watchdog, this.secretFile(rec.spec.namespace)) });
      this.prepared.set(fn, { id: created.id, name: created.name, revision: rec.revision, primed: false });
    } catch (err) {
      this.o.logger.warn('function replica not prepared', { function: fn, err });
    }
  }

  /**
   * Primes the function's prepared replica when there is a place: fewer
   * than `primedMax` are primed, or the least recently used of them was
   * used before this function (it gives its place, back to plain prepared).
   */
  private async primeIfRoom(fn: string): Promise<void> {
    const p = this.prepared.get(fn);
    if (p === undefined || p.primed || this.primedMax <= 0 || this.closed) return;
    const used = (f: string): number => this.lastUsed.get(f) ?? 0;
    const primed = [...this.prepared].filter(([, x]) => x.primed);
    if (primed.length >= this.primedMax) {
      const [lruFn, lru] = primed.reduce((a, b) => (used(b[0]) < used(a[0]) ? b : a));
      if (used(lruFn) >= used(fn)) return;
      lru.primed = false;
      await this.o.engine.unprime(lru.id).catch((err: unknown) => this.o.logger.debug('replica not un-primed', { function: lruFn, id: lru.id, err: describeError(err) }));
    }
    p.primed = true;
    try {
      await this.o.engine.prime(p.id);
      // The function's next request is a cold start: the young generation collected now, not during it (src/young-gc.ts).
      collectYoungSoon();
    } catch (err) {
      p.primed = false;
      this.o.logger.warn('function replica not primed', { function: fn, id: p.id, err });
    }
  }

  /** The prepared replica of this revision, if there is one still created (a user may have removed it). */
  private takePrepared(fn: string, revision: number): (ContainerRecord & { primed: boolean }) | undefined {
    const p = this.prepared.get(fn);
    if (p === undefined || p.revision !== revision) return undefined;
    this.prepared.delete(fn);
    if (p.primed) this.primeNextLater();
    try {
      const r = this.o.engine.find(p.id);
      return r.state === 'created' ? { ...r, primed: p.primed } : undefined;
    } catch {
      return undefined;
    }
  }

  /** A primed place was freed: the most recently used function at zero without one gets it, once the cold start is done. */
  private primeNextLater(): void {
    const waiting = [...this.prepared].filter(([, x]) => !x.primed).sort(([a], [b]) => (this.lastUsed.get(b) ?? 0) - (this.lastUsed.get(a) ?? 0));
    const next = waiting[0]?.[0];
    if (next !== undefined) this.later(next, REPRIME_DELAY_MS);
  }

  private async unprepare(fn: string): Promise<void> {
    const p = this.prepared.get(fn);
    if (p === undefined) return;
    this.prepared.delete(fn);
    if (p.primed) this.primeNextLater();
    await this.removeContainer(p.id);
  }

  private async startOne(rec: FunctionRecord, trace?: ColdStart): Promise<void> {
    const fn = functionKey(rec.spec.namespace, rec.spec.name);
    this.lastUsed.set(fn, Date.now());
    trace?.phase('scheduled');
    const prepared = this.takePrepared(fn, rec.revision);
    if (prepared !== undefined) {
      trace?.phase(prepared.primed ? 'primed' : 'prepared');
      if (await this.startReplica(fn, rec, prepared, trace, true)) return;
    }
    await this.startReplica(fn, rec, undefined, trace, false);
  }

  /**
   * Starts one replica (`created`, or one created now) and waits until it
   * is ready; true when it is. With `fallback`, a start that fails before
   * the program ran (a primed process killed meanwhile) is only logged and
   * the caller creates another; any other failure is the function's.
   */
  private async startReplica(fn: string, rec: FunctionRecord, given: ContainerRecord | undefined, trace: ColdStart | undefined, fallback: boolean): Promise<boolean> {
    let id: string | undefined;
    let started = false;
    try {
      const onPhase = (name: string): void => trace?.phase(name);
      let created = given;
      if (created === undefined) {
        const wd = rec.spec.envProcess !== undefined || runsWatchdog(rec.spec, await this.imageEnv(rec.spec.image));
        created = await this.o.engine.create({ image: rec.spec.image, options: replicaOptions(rec.spec, rec.revision, wd, this.secretFile(rec.spec.namespace)), onPhase });
      }
      const watchdog = created.labels[LABEL_WATCHDOG] === 'true';
      id = created.id;
      trace?.phase('created');
      const replica: Replica = { id, name: created.name, fn, revision: rec.revision, address: undefined, port: this.port, watchdog, state: 'starting', inflight: 0 };
      this.add(replica);
      let probing: Promise<void> | undefined;
      // Its phase told as it is ready: the engine's start may still hold the record back (below).
      const ready = (): Promise<void> => this.becomeReady(replica).then(() => trace?.phase('ready'));
      // The record's `running` (a synchronous commit) waits for the request that started a cold start to be answered.
      await this.o.engine.start(
        id,
        (name) => {
          onPhase(name);
          // Readiness is probed from the moment the program runs, while the engine still records the start.
          if (name !== 'runtime start') return;
          probing = ready();
          probing.catch(() => undefined);
        },
        trace === undefined ? {} : { holdRecord: trace.answered },
      );
      started = true;
      trace?.phase('started');
      await (probing ?? ready());
      this.failures.delete(fn);
      return true;
    } catch (err) {
      if (fallback && !started) {
        this.o.logger.warn('prepared function replica failed to start; creating another', { function: fn, id, err });
        const r = this.of(fn).find((x) => x.id === id);
        if (r !== undefined) this.drop(r);
        if (id !== undefined) await this.removeContainer(id);
        return false;
      }
      const count = (this.failures.get(fn)?.count ?? 0) + 1;
      this.failures.set(fn, { error: err, count });
      this.o.logger.warn('function replica failed to start', { function: fn, id, err });
      const r = this.of(fn).find((x) => x.id === id);
      if (r !== undefined) this.drop(r);
      else this.changed(fn);
      if (id !== undefined) await this.removeContainer(id);
      this.later(fn, Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(count, 6)));
      return false;
    }
  }

  private secretFile(namespace: string): ((name: string) => string) | undefined {
    const f = this.o.secretFile;
    return f === undefined ? undefined : (name) => f(namespace, name);
  }

  /** The image's Env (where OpenFaaS's images name their fprocess). */
  private async imageEnv(image: string): Promise<readonly string[]> {
    const img = await this.o.engine.resolveImage(image, 'missing');
    return (await this.o.engine.images.readConfig(img)).config?.Env ?? [];
  }

  /** Where the probe of an image's own server leaves its connection: with the gateway's agent, for the first request. */
  private keepProbe(host: string, port: number): ((sock: Socket) => void) | undefined {
    const agent = this.o.agent;
    return agent instanceof ReplicaAgent ? (sock) => agent.offer(host, port, sock) : undefined;
  }

  /** Waits until the replica's watchdog is healthy, or the image's server takes TCP connections, on :8080. */
  private async becomeReady(r: Replica): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    // From the network layer: probed before the engine records the replica as running (its view shows no sandbox until then).
    const ipv4 = (this.o.engine.network?.sandboxOf(r.id) ?? this.o.engine.view(r.id).sandbox)?.endpoints[0]?.ipv4;
    if (ipv4 === undefined) throw unavailable('faas_replica_no_address', `function "${r.fn}": replica ${r.name} has no address on the default network`);
    r.address = addressOf(ipv4);
    // Looked up while the replica starts, so that it costs the cold start nothing.
    const cgroup = this.o.engine.runtimeRecord(r.id, { starting: true }).then((rec) => (rec.cgroup === undefined ? undefined : new ReplicaCgroup(rec.cgroup)), () => undefined);
    for (let attempt = 0; ; attempt++) {
      if (r.state !== 'starting') throw unavailable('faas_replica_failed', `function "${r.fn}": replica ${r.name} stopped before it was ready`);
      // The watchdog says when it is ready (a held answer); an image's own server is probed.
      if (await (r.watchdog ? isHealthy(r.address, r.port, 1_000, READY_WAIT_MS, this.o.agent) : canConnect(r.address, r.port, 1_000, this.keepProbe(r.address, r.port)))) break;
      if (Date.now() > deadline) {
        throw unavailable('faas_replica_timeout', `function "${r.fn}": replica ${r.name} did not ${r.watchdog ? 'answer /_/health' : 'accept connections'} on ${r.address}:${r.port} within ${Math.round(this.readyTimeoutMs / 1000)}s`);
      }
      // A refused connection costs microseconds: 1 ms between the first probes, up to 5 ms for a slow starter (Node.js).
      await delay(Math.min(5, 1 + (attempt >> 2)));
    }
    r.cgroup = await cgroup;
    if (r.state !== 'starting') throw unavailable('faas_replica_failed', `function "${r.fn}": replica ${r.name} stopped before it was ready`);
    r.state = 'ready';
    this.changed(r.fn);
  }

  /** Takes no new requests, waits for the ones in flight, then removes the container. */
  private async retire(r: Replica): Promise<void> {
    if (r.state === 'gone') return;
    r.state = 'draining';
    this.changed(r.fn);
    await this.o.beforeDrain?.(r);
    const deadline = Date.now() + this.drainTimeoutMs;
    while (r.inflight > 0 && Date.now() < deadline) await delay(10);
    this.drop(r);
    await this.removeContainer(r.id);
  }

  private onDied(id: string): void {
    for (const set of this.sets.values()) {
      const r = set.find((x) => x.id === id);
      if (r === undefined || (r.state !== 'ready' && r.state !== 'starting')) continue;
      this.o.logger.warn('function replica died; replacing it', { function: r.fn, id, name: r.name });
      const wasReady = r.state === 'ready';
      this.drop(r);
      void this.removeContainer(id);
      if (wasReady) void this.reconcile(r.fn);
      return;
    }
  }

  private later(fn: string, ms: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.reconcile(fn);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private async removeContainer(id: string): Promise<void> {
    try {
      this.o.keepLog?.(id);
      await this.o.engine.remove(id, { force: true });
    } catch (err) {
      this.o.logger.debug('replica container not removed', { id, err: describeError(err) });
    }
  }
}

/** True when host:port accepts a connection within `timeoutMs`; `keep` takes that connection (else it is closed). */
export function canConnect(host: string, port: number, timeoutMs: number, keep?: (sock: Socket) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.once('connect', () => {
      if (keep === undefined) return finish(true);
      clearTimeout(timer);
      sock.removeAllListeners('error');
      keep(sock);
      resolve(true);
    });
    sock.once('error', () => finish(false));
  });
}

/** True when the watchdog at host:port answers GET /_/health with 200 within `timeoutMs`. */
export function isHealthy(host: string, port: number, timeoutMs: number, waitMs = 0, agent?: Agent): Promise<boolean> {
  return new Promise((resolve) => {
    // berth's watchdog holds a /_/health?wait=MS answer until it is ready (up to MS); another answers at once.
    const req = request({ host, port, path: waitMs > 0 ? `/_/health?wait=${waitMs}` : '/_/health', agent: agent ?? false, timeout: timeoutMs + waitMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
