/**
 * Scaling to and from zero. A function labelled com.openfaas.scale.zero=true
 * that has had no request for its com.openfaas.scale.zero-duration (and
 * has none in flight) goes to zero replicas; a request for a function at
 * zero sets it back to its minimum (at least one) and waits for a replica.
 * Either change is written to the function's record first, so a berthd
 * restarted in between brings up what the record says.
 */
import type { StatementSync } from 'node:sqlite';
import type { LoadSource } from './autoscaler.ts';
import type { FaasLogger } from './log.ts';
import { initialReplicas } from './deployment.ts';
import { functionKey, splitFunctionKey } from './namespaces.ts';
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

export class Scaler implements LoadSource {
  private readonly lastUse = new Map<string, number>();
  private readonly inflights = new Map<string, number>();
  private readonly completions = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private existsStmt: StatementSync | undefined;

  private readonly o: ScalerOptions;

  constructor(o: ScalerOptions) {
    this.o = o;
    this.timer = setInterval(() => this.tick(), o.tickMs ?? 250);
    this.timer.unref();
  }

  /**
   * Counts a request for `fn` as in flight until the function returned is
   * called. A name no function has leaves nothing behind: requests for
   * random names would otherwise grow these maps without bound.
   */
  begin(fn: string): () => void {
    if (!this.exists(fn)) return () => undefined;
    this.inflights.set(fn, (this.inflights.get(fn) ?? 0) + 1);
    this.lastUse.set(fn, Date.now());
    return () => {
      const left = (this.inflights.get(fn) ?? 1) - 1;
      if (left > 0) this.inflights.set(fn, left);
      else this.inflights.delete(fn);
      if (this.exists(fn)) {
        this.lastUse.set(fn, Date.now());
        this.completions.set(fn, (this.completions.get(fn) ?? 0) + 1);
      } else {
        this.lastUse.delete(fn);
        this.completions.delete(fn);
      }
    };
  }

  /**
   * The relay's calls of one batch (src/faas/relay.ts): `begun` more in
   * flight, `ended` of them done, counted as begin() and its release count
   * them. The record is not looked up: the relay serves only functions
   * with ready replicas (a deleted function's are retired first).
   */
  relayed(fn: string, begun: number, ended: number): void {
    const left = (this.inflights.get(fn) ?? 0) + begun - ended;
    if (left > 0) this.inflights.set(fn, left);
    else this.inflights.delete(fn);
    this.lastUse.set(fn, Date.now());
    if (ended > 0) this.completions.set(fn, (this.completions.get(fn) ?? 0) + ended);
  }

  /** A deleted function: nothing of it is kept. */
  forget(fn: string): void {
    if ((this.inflights.get(fn) ?? 0) === 0) this.inflights.delete(fn);
    this.lastUse.delete(fn);
    this.completions.delete(fn);
  }

  /** Requests for `fn` in flight now (the autoscaler's capacity). */
  inflight(fn: string): number {
    return this.inflights.get(fn) ?? 0;
  }

  /** Requests for `fn` completed since berthd started (the autoscaler's rps, by difference). */
  completed(fn: string): number {
    return this.completions.get(fn) ?? 0;
  }

  /** The functions it keeps anything for (bounded by the functions deployed). */
  tracked(): number {
    return new Set([...this.lastUse.keys(), ...this.inflights.keys(), ...this.completions.keys()]).size;
  }

  private exists(fn: string): boolean {
    this.existsStmt ??= this.o.store.db.prepare('SELECT 1 FROM engine_functions WHERE namespace = ? AND name = ?');
    const { namespace, name } = splitFunctionKey(fn);
    return this.existsStmt.get(namespace, name) !== undefined;
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
    const { namespace, name } = splitFunctionKey(fn);
    const rec = this.o.store.mustGet(namespace, name);
    let trace: ColdStart | undefined;
    if (rec.replicas === 0) {
      trace = new ColdStart(fn, arrived);
      this.o.store.setReplicas(namespace, name, initialReplicas(rec.spec.scaling), false);
      trace.phase('lookup');
      void this.o.replicas.reconcile(fn, trace);
      // A turn later, when its start is under way: the reconciliation begins in a microtask, and the log's write (a
      // synchronous append when berthd's stderr is a file) made here would come before it, on the cold start's path.
      setImmediate(() => this.o.logger.info('function scaled from zero', { function: fn }));
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
      .prepare('SELECT namespace, name, scale_zero_ms FROM engine_functions WHERE scale_zero = 1 AND replicas > 0')
      .all();
    for (const row of rows) {
      const fn = functionKey(String(row['namespace']), String(row['name']));
      const idleMs = Number(row['scale_zero_ms']);
      const last = this.lastUse.get(fn);
      if (last === undefined) {
        this.lastUse.set(fn, now);
        continue;
      }
      if (this.inflight(fn) > 0 || now - last < idleMs) continue;
      this.o.store.setReplicas(String(row['namespace']), String(row['name']), 0);
      this.o.logger.info('function scaled to zero', { function: fn, idleMs: now - last });
      void this.o.replicas.reconcile(fn);
    }
  }
}
