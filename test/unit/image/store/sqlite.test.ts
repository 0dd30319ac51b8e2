import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { inTransaction, openVersionedDatabase, type VersionedSchema } from '../../../../src/sqlite.ts';
import { onCleanup, tempDir } from '../../../helpers/cleanup.ts';

const V1 = 'CREATE TABLE t_items (name TEXT PRIMARY KEY)';
const V2 = 'ALTER TABLE t_items ADD COLUMN size INTEGER NOT NULL DEFAULT 0';
const schema = (migrations: string[]): VersionedSchema => ({
  versionTable: 't_schema',
  migrations,
  synchronous: 'FULL',
  tooNew: (version, known) => new Error(`too new: ${version} > ${known}`),
});
const version = (db: DatabaseSync) => db.prepare('SELECT version FROM t_schema').get()?.['version'];

test('a database at version 1 is migrated to version 2, keeping its rows', (t) => {
  const path = join(tempDir(t), 'berth.db');
  const v1 = openVersionedDatabase(path, schema([V1]));
  v1.prepare("INSERT INTO t_items (name) VALUES ('kept')").run();
  assert.equal(version(v1), 1);
  v1.close();
  const v2 = openVersionedDatabase(path, schema([V1, V2]));
  onCleanup(t, () => v2.close());
  assert.equal(version(v2), 2);
  assert.deepEqual({ ...v2.prepare('SELECT name, size FROM t_items').get() }, { name: 'kept', size: 0 });
  assert.equal(v2.prepare('SELECT count(*) AS n FROM t_schema').get()?.['n'], 1);
});

test('a migration that fails leaves the previous version whole, and a newer file is refused by the caller\'s error', (t) => {
  const path = join(tempDir(t), 'berth.db');
  openVersionedDatabase(path, schema([V1])).close();
  assert.throws(() => openVersionedDatabase(path, schema([V1, V2, 'CREATE TABLE broken (']))); // one transaction: V2 is rolled back too
  const check = openVersionedDatabase(path, schema([V1]));
  onCleanup(t, () => check.close());
  assert.equal(version(check), 1);
  assert.deepEqual(
    check.prepare('PRAGMA table_info(t_items)').all().map((c) => c['name']),
    ['name'],
  );
  assert.throws(() => openVersionedDatabase(path, schema([])), /too new: 1 > 0/);
});

test('a write lock held past the busy timeout is database_busy naming the file, and nothing runs', (t) => {
  const path = join(tempDir(t), 'berth.db');
  const holder = openVersionedDatabase(path, schema([V1]));
  onCleanup(t, () => holder.close());
  const waiter = new DatabaseSync(path, { timeout: 0 });
  onCleanup(t, () => waiter.close());
  holder.exec('BEGIN IMMEDIATE');
  let ran = false;
  assert.throws(
    () => inTransaction(waiter, () => (ran = true)),
    (err: unknown) => isBerthError(err, 'database_busy') && err.kind === 'unavailable' && err.message.includes(path),
  );
  assert.equal(ran, false);
  holder.exec('ROLLBACK');
  assert.equal(inTransaction(waiter, () => 'ran'), 'ran');
});
