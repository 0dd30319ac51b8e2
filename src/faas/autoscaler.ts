/**
 * Autoscaling between com.openfaas.scale.min and max (labels in
 * autoscale-labels.ts). Every tick it samples each running function's
 * load, as the gateway sees it:
 *
 *   capacity  requests in flight (mean of the samples in the load window)
 *   rps       requests answered per second over the load window
 *   cpu       milli-CPU used by its replicas over the load window (their cgroups)
 *
 * and wants ceil(load / (target × proportion)) replicas within the bounds.
 * Up is at once (new replicas take traffic only once ready: replicas.ts);
 * down only to the highest count wanted within the down window, so a
 * burst that pauses does not stop replicas it will need again. The count
 * goes to the function's record first (a restarted berthd brings up what
 * it says), then the replicas are reconciled. A function at zero is left
 * to scale-from-zero (scaler.ts); the autoscaler never takes it to zero.
 */
import type { FaasLogger } from './log.ts';
import { autoscalingOf, desiredReplicas, type Autoscaling } from './autoscale-labels.ts';
import type { Replica, Replicas } from './replicas.ts';
import type { FunctionStore } from './store.ts';

/** What the gateway counts of a function's requests (the Scaler keeps it). */
export interface LoadSource {
  inflight(fn: string): number;
  /** Requests answered since berthd started (only goes up). */
  completed(fn: string): number;
}

export interface AutoscalerOptions {
  store: FunctionStore;
  replicas: Pick<Replicas, 'of' | 'reconcile'>;
  load: LoadSource;
  namespace: string;
  logger: FaasLogger;
  /** CPU time a replica's cgroup has used, in ns; undefined when it cannot be read. */
  cpuNs?: (r: Replica) => number | undefined;
  /** How often load is sampled and replicas decided (default 500 ms). */
  tickMs?: number;
  /** The load is measured over this window (default 5 s). */
  windowMs?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  inflight: number;
  completed: number;
  /** CPU ns of the function's replicas, summed from each replica's own increase (a replica gone takes nothing back). */
  cpuNs: number;
}

interface FunctionState {
  revision: number;
  scaling: { min: number; max: number; auto: Autoscaling };
  samples: Sample[];
  /** Replica counts wanted, with when (the down window). */
  wanted: { at: number; n: number }[];
  cpuByReplica: Map<string, number>;
  cpuTotal: number;
  /** When sampling began: no scaling down before a whole down window of it. */
  since: number;
}

export class Autoscaler {
  private readonly state = new Map<string, FunctionState>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly o: AutoscalerOptions;

  constructor(o: AutoscalerOptions) {
    this.o = o;
    this.windowMs = o.windowMs ?? 5_000;
    this.now = o.now ?? Date.now;
    if (o.tickMs !== 0) {
      this.timer = setInterval(() => {
        try {
          this.tick();
        } catch (err) {
          o.logger.warn('autoscaling round failed', { err });
        }
      }, o.tickMs ?? 500);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** The load of a function over the window, in its scale type's unit (undefined before two samples). */
  load(fn: string): number | undefined {
    const s = this.state.get(fn);
    if (s === undefined || s.samples.length < 2) return undefined;
    const first = s.samples[0]!;
    const last = s.samples[s.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    if (seconds <= 0) return undefined;
    switch (s.scaling.auto.type) {
      case 'capacity':
        return s.samples.reduce((a, x) => a + x.inflight, 0) / s.samples.length;
      case 'rps':
        return (last.completed - first.completed) / seconds;
      case 'cpu':
        return (last.cpuNs - first.cpuNs) / 1e6 / seconds;
    }
  }

  /** One round: sample, decide, act. Public for tests. */
  tick(): void {
    const now = this.now();
    const rows = this.o.store.db
      .prepare('SELECT name, revision, replicas FROM engine_functions WHERE namespace = ? AND replicas > 0')
      .all(this.o.namespace);
    const seen = new Set<string>();
    for (const row of rows) {
      const fn = String(row['name']);
      seen.add(fn);
      try {
        this.step(fn, Number(row['revision']), Number(row['replicas']), now);
      } catch (err) {
        this.o.logger.warn('function not autoscaled', { function: fn, err });
      }
    }
    for (const fn of this.state.keys()) if (!seen.has(fn)) this.state.delete(fn);
  }

  private stateOf(fn: string, revision: number): FunctionState {
    const old = this.state.get(fn);
    if (old !== undefined && old.revision === revision) return old;
    const spec = this.o.store.mustGet(this.o.namespace, fn).spec;
    const { min, max } = spec.scaling;
    const s: FunctionState = { revision, scaling: { min, max, auto: autoscalingOf(spec.labels, min, max) }, samples: [], wanted: [], cpuByReplica: new Map(), cpuTotal: 0, since: this.now() };
    this.state.set(fn, s);
    return s;
  }

  private step(fn: string, revision: number, replicas: number, now: number): void {
    const s = this.stateOf(fn, revision);
    if (!s.scaling.auto.enabled) return;
    if (s.scaling.auto.type === 'cpu') this.sampleCpu(fn, s);
    s.samples.push({ at: now, inflight: this.o.load.inflight(fn), completed: this.o.load.completed(fn), cpuNs: s.cpuTotal });
    while (s.samples.length > 2 && now - s.samples[0]!.at > this.windowMs) s.samples.shift();
    const load = this.load(fn);
    if (load === undefined) return;
    const { min, max, auto } = s.scaling;
    const want = desiredReplicas(load, auto, min, max);
    s.wanted.push({ at: now, n: want });
    while (s.wanted.length > 1 && now - s.wanted[0]!.at > auto.downWindowMs) s.wanted.shift();
    const highest = Math.max(...s.wanted.map((w) => w.n));
    const settled = now - s.since >= auto.downWindowMs;
    const next = want > replicas ? want : settled && highest < replicas ? highest : replicas;
    if (next === replicas) return;
    this.o.store.setReplicas(this.o.namespace, fn, next);
    this.o.logger.info('function autoscaled', { function: fn, from: replicas, to: next, type: auto.type, load: Math.round(load * 100) / 100, target: auto.target });
    void this.o.replicas.reconcile(fn);
  }

  private sampleCpu(fn: string, s: FunctionState): void {
    const read = this.o.cpuNs;
    if (read === undefined) return;
    const present = new Set<string>();
    for (const r of this.o.replicas.of(fn)) {
      if (r.state !== 'ready' && r.state !== 'draining') continue;
      const ns = read(r);
      if (ns === undefined) continue;
      present.add(r.id);
      const before = s.cpuByReplica.get(r.id);
      if (before !== undefined && ns > before) s.cpuTotal += ns - before;
      s.cpuByReplica.set(r.id, ns);
    }
    for (const id of s.cpuByReplica.keys()) if (!present.has(id)) s.cpuByReplica.delete(id);
  }
}
