/**
 * Opening berth.db for one area of berth (the image store, the engine):
 * WAL, foreign keys, and the area's schema version in a one-row table of
 * its own, since SQLite's `user_version` is one number for the whole file
 * and the areas share it. Migrations run in one write transaction, so a
 * crash mid-way leaves the previous version whole.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { unavailable } from './errors.ts';

export interface VersionedSchema {
  /** The area's one-row version table, e.g. `image_schema`. */
  versionTable: string;
  /** Entry n moves the schema from version n to n+1; never edit one that shipped. */
  migrations: readonly string[];
  /** FULL where a change must be durable before it is reported, also across a power cut. */
  synchronous: 'NORMAL' | 'FULL';
  /** The error for a file written by a newer berth (each area has its own code). */
  tooNew: (version: number, known: number) => Error;
}

export function openVersionedDatabase(path: string, schema: VersionedSchema): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 10_000 });
  try {
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = ${schema.synchronous};`);
    inTransaction(db, () => migrate(db, schema));
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: DatabaseSync, { versionTable, migrations, tooNew }: VersionedSchema): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${versionTable} (version INTEGER NOT NULL)`);
  const row = db.prepare(`SELECT version FROM ${versionTable}`).get();
  const version = row === undefined ? 0 : Number(row['version']);
  if (version > migrations.length) throw tooNew(version, migrations.length);
  for (const sql of migrations.slice(version)) db.exec(sql);
  if (version === 0) db.prepare(`INSERT INTO ${versionTable} (version) VALUES (?)`).run(migrations.length);
  else if (version < migrations.length) db.prepare(`UPDATE ${versionTable} SET version = ?`).run(migrations.length);
}

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

/**
 * inTransaction, committed without its own fsync on a `synchronous = FULL`
 * connection: the WAL is in the kernel's cache, so a crash of the process
 * (kill -9) keeps it, and the next FULL commit's fsync of the WAL makes it
 * durable with its own. Only for a write the caller's next durable commit
 * follows, and that a power cut may lose without harm: nothing may be
 * reported from it alone. Inside an open transaction it joins that one.
 */
export function inUnsyncedTransaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec('PRAGMA synchronous = NORMAL');
  try {
    return inTransaction(db, fn);
  } finally {
    db.exec('PRAGMA synchronous = FULL');
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

/** Prepares each statement once for `db` and keeps it: preparing costs more than running a small query. */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const statements = new Map<string, StatementSync>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
