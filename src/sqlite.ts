/**
 * SQLite helpers every room of berth may use (the image store, the engine,
 * the network records share one berth.db): one write transaction, and
 * telling a UNIQUE constraint's failure from others.
 */
import type { DatabaseSync } from 'node:sqlite';
import { unavailable } from './errors.ts';

/**
 * Runs `fn` in one write transaction. BEGIN IMMEDIATE takes the write lock
 * first, so a read-then-write (is the name free? then take it) cannot be
 * interleaved with another process's, and writers queue instead of failing.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    throw busy(db, err);
  }
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

const SQLITE_BUSY = 5;

/** Another process held the write lock past the busy timeout: say which file, keep SQLite's error as the cause. */
function busy(db: DatabaseSync, err: unknown): unknown {
  if (typeof err !== 'object' || err === null || !('errcode' in err) || err.errcode !== SQLITE_BUSY) return err;
  const file = db.location() ?? 'in-memory database';
  return unavailable('database_busy', `database ${file}: busy, another process holds its write lock; try again`, { cause: err, details: { file } });
}

/** A UNIQUE or PRIMARY KEY constraint failed (SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('errcode' in err)) return false;
  return err.errcode === 2067 || err.errcode === 1555;
}
