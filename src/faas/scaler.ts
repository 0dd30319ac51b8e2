/**
 * Scaling to and from zero. A function labelled com.openfaas.scale.zero=true
 * that has had no request for its com.openfaas.scale.zero-duration (and
 * has none in flight) goes to zero replicas; a request for a function at
 * zero sets it back to its minimum (at least one) and waits for a replica.
 * Either change is written to the function's record first, so a berthd
 * restarted in between brings up what the record says.
 */
import type { FaasLogger } from './log.ts';
import { initialReplicas } from './deployment.ts';
import type { Replica, Replicas } from './replicas.ts';
import type { FunctionStore } from './store.ts';
import { ColdStart } from './trace.ts';

export interface ScalerOptions {
  store: FunctionStore;
  replicas: Replicas;
  namespace: string;
  logger: FaasLogger;
  /** How often idle functions are looked for (default 250 ms). */
  tickMs?: number;
}

export class Scaler {
  private readonly lastUse = new Map<string, number>();
  private readonly inflight = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  private readonly o: ScalerOptions;

  constructor(o: ScalerOptions) {
    this.o = o;
    this.timer = setInterval(() => this.tick(), o.tickMs ?? 250);
    this.timer.unref();
  }

  /** Counts a request for `fn` as in flight until the function returned is called. */
  begin(fn: string): () => void {
    this.inflight.set(fn, (this.inflight.get(fn) ?? 0) + 1);
    this.lastUse.set(fn, Date.now());
    return () => {
      this.inflight.set(fn, (this.inflight.get(fn) ?? 1) - 1);
      this.lastUse.set(fn, Date.now());
    };
  }

  /** Marks a function as used now (deploy, update, scale): its idle time starts again. */
  touch(fn: string): void {
    this.lastUse.set(fn, Date.now());
  }

  /** A ready replica of `fn`; scales it from zero when it has none wanted (the trace says so). */
  async replicaFor(fn: string, waitMs: number, signal: AbortSignal, arrived = performance.now()): Promise<{ replica: Replica; trace?: ColdStart }> {
    // A ready replica answers without a read of the record: a function removed has none (retired first).
    const ready = this.o.replicas.pick(fn);
    if (ready !== undefined) return { replica: ready };
    const rec = this.o.store.mustGet(this.o.namespace, fn);
    let trace: ColdStart | undefined;
    if (rec.replicas === 0) {
      trace = new ColdStart(fn, arrived);
      this.o.store.setReplicas(this.o.namespace, fn, initialReplicas(rec.spec.scaling));
      trace.phase('lookup');
      this.o.logger.info('function scaled from zero', { function: fn });
      void this.o.replicas.reconcile(fn, trace);
    }
    const replica = await this.o.replicas.acquire(fn, waitMs, signal);
    return trace === undefined ? { replica } : { replica, trace };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    const rows = this.o.store.db
      .prepare('SELECT name, scale_zero_ms FROM engine_functions WHERE namespace = ? AND scale_zero = 1 AND replicas > 0')
      .all(this.o.namespace);
    for (const row of rows) {
      const fn = String(row['name']);
      const idleMs = Number(row['scale_zero_ms']);
      const last = this.lastUse.get(fn);
      if (last === undefined) {
        this.lastUse.set(fn, now);
        continue;
      }
      if ((this.inflight.get(fn) ?? 0) > 0 || now - last < idleMs) continue;
      this.o.store.setReplicas(this.o.namespace, fn, 0);
      this.o.logger.info('function scaled to zero', { function: fn, idleMs: now - last });
      void this.o.replicas.reconcile(fn);
    }
  }
}
