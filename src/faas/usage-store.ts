/**
 * Durable usage aggregates: per function, per minute (UTC), the calls that
 * reached a replica, those that failed, and their summed duration, CPU
 * time and GB-seconds, with the highest peak memory of the minute (table
 * engine_function_usage, a migration of src/engine/store/db.ts).
 *
 * Calls are summed in memory and written once a second in one transaction
 * (the engine's database syncs every commit: one per call would cost a
 * disk flush each), and at close; a berthd killed outright loses at most
 * that last second. Minutes older than the retention (30 days by default)
 * are deleted, so the table stays bounded: at most one row per function
 * per minute it was called in. A removed function's rows stay until they
 * age out (what was used was used).
 */
import type { DatabaseSync } from 'node:sqlite';
import { inTransaction } from '../sqlite.ts';
import { splitFunctionKey } from './namespaces.ts';

export const DEFAULT_USAGE_RETENTION_MS = 30 * 24 * 3600_000;

/** One call, as metering measured it. */
export interface CallRecord {
  fn: string;
  /** When it ended (ms since the epoch). */
  at: number;
  failed: boolean;
  durationMs: number;
  cpuUs: number;
  gbSeconds: number;
  peakBytes: number | undefined;
}

export interface FunctionUsage {
  name: string;
  namespace: string;
  invocations: number;
  failures: number;
  durationSeconds: number;
  cpuSeconds: number;
  gbSeconds: number;
  memoryPeakBytes: number;
}

interface Bucket {
  invocations: number;
  failures: number;
  durationMs: number;
  cpuUs: number;
  gbSeconds: number;
  peak: number;
}

export interface UsageStoreOptions {
  retentionMs?: number;
  /** How often sums go to disk (default 1 s; 0: only on flush()). */
  flushMs?: number;
  /** A timed write that failed (it is tried again with the next). */
  onError?: (err: unknown) => void;
  now?: () => number;
}

export class UsageStore {
  private pending = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private lastPrune = 0;
  private readonly db: DatabaseSync;
  private readonly namespace: string;
  private readonly onError: ((err: unknown) => void) | undefined;

  constructor(db: DatabaseSync, namespace: string, o: UsageStoreOptions = {}) {
    this.db = db;
    this.namespace = namespace;
    this.retentionMs = o.retentionMs ?? DEFAULT_USAGE_RETENTION_MS;
    this.now = o.now ?? Date.now;
    this.onError = o.onError;
    if (o.flushMs !== 0) {
      this.timer = setInterval(() => {
        try {
          this.flush();
        } catch (err) {
          this.onError?.(err);
        }
      }, o.flushMs ?? 1_000);
      this.timer.unref();
    }
  }

  add(c: CallRecord): void {
    this.merge(`${c.fn}\n${Math.floor(c.at / 60_000)}`, {
      invocations: 1, failures: c.failed ? 1 : 0, durationMs: c.durationMs, cpuUs: c.cpuUs, gbSeconds: c.gbSeconds, peak: c.peakBytes ?? 0,
    });
  }

  private merge(key: string, add: Bucket): void {
    const b = this.pending.get(key);
    if (b === undefined) {
      this.pending.set(key, { ...add });
      return;
    }
    b.invocations += add.invocations;
    b.failures += add.failures;
    b.durationMs += add.durationMs;
    b.cpuUs += add.cpuUs;
    b.gbSeconds += add.gbSeconds;
    b.peak = Math.max(b.peak, add.peak);
  }

  /** Writes what is summed so far (and deletes minutes past the retention, hourly). */
  flush(): void {
    if (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        const upsert = this.db.prepare(
          `INSERT INTO engine_function_usage (namespace, name, minute, invocations, failures, duration_ms, cpu_us, gb_seconds, memory_peak_bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (namespace, name, minute) DO UPDATE SET
             invocations = invocations + excluded.invocations, failures = failures + excluded.failures,
             duration_ms = duration_ms + excluded.duration_ms, cpu_us = cpu_us + excluded.cpu_us,
             gb_seconds = gb_seconds + excluded.gb_seconds, memory_peak_bytes = max(memory_peak_bytes, excluded.memory_peak_bytes)`,
        );
        inTransaction(this.db, () => {
          for (const [key, b] of batch) {
            const [fn = '', minute = '0'] = key.split('\n');
            // fn is a key (src/faas/namespaces.ts): NAME.NAMESPACE outside the default namespace.
            const { namespace, name } = splitFunctionKey(fn, this.namespace);
            upsert.run(namespace, name, Number(minute), b.invocations, b.failures, Math.round(b.durationMs), Math.round(b.cpuUs), b.gbSeconds, b.peak);
          }
        });
      } catch (err) {
        // Nothing was written (one transaction): the sums wait for the next write.
        for (const [key, b] of batch) this.merge(key, b);
        throw err;
      }
    }
    const now = this.now();
    if (now - this.lastPrune >= 3600_000) {
      this.lastPrune = now;
      this.db.prepare('DELETE FROM engine_function_usage WHERE minute < ?').run(Math.floor((now - this.retentionMs) / 60_000));
    }
  }

  /** Sums per function of a namespace, of the minutes from `sinceMs` (rounded down to its minute) on, pending calls included. */
  query(sinceMs: number, namespace = this.namespace): FunctionUsage[] {
    this.flush();
    const rows = this.db
      .prepare(
        `SELECT name, sum(invocations) AS invocations, sum(failures) AS failures, sum(duration_ms) AS duration_ms, sum(cpu_us) AS cpu_us,
                sum(gb_seconds) AS gb_seconds, max(memory_peak_bytes) AS peak
         FROM engine_function_usage WHERE namespace = ? AND minute >= ? GROUP BY name ORDER BY name`,
      )
      .all(namespace, Math.floor(sinceMs / 60_000));
    return rows.map((r) => ({
      name: String(r['name']),
      namespace,
      invocations: Number(r['invocations']),
      failures: Number(r['failures']),
      durationSeconds: Number(r['duration_ms']) / 1000,
      cpuSeconds: Number(r['cpu_us']) / 1e6,
      gbSeconds: Number(r['gb_seconds']),
      memoryPeakBytes: Number(r['peak']),
    }));
  }

  /** The last write; one that fails is reported (onError), not thrown, so that closing goes on. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      this.flush();
    } catch (err) {
      this.onError?.(err);
    }
  }
}
