/**
 * A container's health as Docker's inspect shows it (State.Health), kept
 * in engine_health (db.ts) so it survives a restart of the daemon: the
 * status, the failing streak and the last probes (at most 5, each output
 * capped by the runner). One row per container with a health check,
 * removed with the container's record.
 */
import type { DatabaseSync } from 'node:sqlite';
import { internal } from '../../errors.ts';
import { parseStoredJson, storedInt, storedString } from '../../sqlite-row.ts';

export const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Docker's HealthcheckResult; times in RFC 3339 with nanoseconds, as Go prints them. */
export interface HealthProbe {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthProbe[];
}

function probe(value: unknown, what: string): HealthProbe {
  const v = value as Partial<Record<keyof HealthProbe, unknown>> | null;
  if (typeof v !== 'object' || v === null || typeof v.Start !== 'string' || typeof v.End !== 'string' || typeof v.ExitCode !== 'number' || typeof v.Output !== 'string') {
    throw internal('engine_record_corrupt', `${what}: not a health probe result`);
  }
  return { Start: v.Start, End: v.End, ExitCode: v.ExitCode, Output: v.Output };
}

export class HealthStore {
  readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  get(containerId: string): HealthState | undefined {
    const row = this.db.prepare('SELECT status, failing_streak, log FROM engine_health WHERE container_id = ?').get(containerId);
    if (row === undefined) return undefined;
    const what = `container ${containerId}: health`;
    const status = storedString(row['status'], `${what} status`);
    if (!(HEALTH_STATUSES as readonly string[]).includes(status)) throw internal('engine_record_corrupt', `${what}: status "${status}" is unknown`);
    const log = parseStoredJson(row['log'], `${what} log`);
    if (!Array.isArray(log)) throw internal('engine_record_corrupt', `${what} log: not a list`);
    return {
      Status: status as HealthStatus,
      FailingStreak: storedInt(row['failing_streak'], `${what} failing streak`),
      Log: log.map((p, i) => probe(p, `${what} log[${i}]`)),
    };
  }

  /** Written before it returns (the connection is synchronous = FULL). */
  put(containerId: string, state: HealthState): void {
    this.db
      .prepare(
        `INSERT INTO engine_health (container_id, status, failing_streak, log) VALUES (?, ?, ?, ?)
         ON CONFLICT (container_id) DO UPDATE SET status = excluded.status, failing_streak = excluded.failing_streak, log = excluded.log`,
      )
      .run(containerId, state.Status, state.FailingStreak, JSON.stringify(state.Log));
  }

  delete(containerId: string): void {
    this.db.prepare('DELETE FROM engine_health WHERE container_id = ?').run(containerId);
  }
}
