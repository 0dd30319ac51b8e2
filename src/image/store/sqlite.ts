/**
 * Opening berth.db for one area of berth (the image store, the engine):
 * WAL, foreign keys, and the area's schema version in a one-row table of
 * its own, since SQLite's `user_version` is one number for the whole file
 * and the areas share it. Migrations run in one write transaction, so a
 * crash mid-way leaves the previous version whole.
 */
import { DatabaseSync } from 'node:sqlite';
import { inTransaction } from '../../sqlite.ts';

export { inTransaction };

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
