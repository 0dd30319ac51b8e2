import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { ENGINE_SCHEMA_VERSION, inTransaction, isUniqueViolation, openEngineDatabase } from '../../../../src/engine/store/db.ts';
import { openImageDatabase } from '../../../../src/image/store/db.ts';
import { onCleanup, tempDir } from '../../../helpers/cleanup.ts';

const tables = (db: DatabaseSync): string[] =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => String(r['name']));

test('an empty database is migrated to the current schema, in WAL mode with synchronous=FULL', (t) => {
  const path = join(tempDir(t), 'berth.db');
  const db = openEngineDatabase(path);
  onCleanup(t, () => db.close());
  assert.deepEqual(tables(db), ['engine_container_networks', 'engine_container_volumes', 'engine_containers', 'engine_endpoints', 'engine_fn_call_attempts', 'engine_fn_calls', 'engine_function_usage', 'engine_functions', 'engine_health', 'engine_networks', 'engine_sandboxes', 'engine_schema', 'engine_volumes']);
  assert.equal(db.prepare('SELECT version FROM engine_schema').get()?.['version'], ENGINE_SCHEMA_VERSION);
  assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
  // 2 is FULL: a reported change survives a power cut, not only a crash.
  assert.equal(db.prepare('PRAGMA synchronous').get()?.['synchronous'], 2);
  assert.equal(db.prepare('PRAGMA foreign_keys').get()?.['foreign_keys'], 1);
});

test('reopening keeps the data and the single version row; the image tables share the file untouched', (t) => {
  const path = join(tempDir(t), 'berth.db');
  const image = openImageDatabase(path);
  onCleanup(t, () => image.close());
  const first = openEngineDatabase(path);
  first
    .prepare("INSERT INTO engine_volumes (name, driver, mountpoint, created_at) VALUES ('v1', 'local', '/x', 'now')")
    .run();
  first.close();
  const again = openEngineDatabase(path);
  onCleanup(t, () => again.close());
  assert.equal(again.prepare('SELECT count(*) AS n FROM engine_schema').get()?.['n'], 1);
  assert.equal(again.prepare('SELECT name FROM engine_volumes').get()?.['name'], 'v1');
  assert.ok(tables(again).includes('image_records'));
  assert.equal(image.prepare('SELECT version FROM image_schema').get()?.['version'], 1);
});

test('a schema newer than this berth is refused with engine_schema_too_new, and the file is left as it was', (t) => {
  const path = join(tempDir(t), 'berth.db');
  openEngineDatabase(path).close();
  const raw = new DatabaseSync(path);
  raw.prepare('UPDATE engine_schema SET version = ?').run(ENGINE_SCHEMA_VERSION + 1);
  raw.close();
  assert.throws(
    () => openEngineDatabase(path),
    (err: unknown) => isBerthError(err, 'engine_schema_too_new') && err.message.includes(`schema version ${ENGINE_SCHEMA_VERSION + 1}`),
  );
  const check = new DatabaseSync(path);
  onCleanup(t, () => check.close());
  assert.equal(check.prepare('SELECT version FROM engine_schema').get()?.['version'], ENGINE_SCHEMA_VERSION + 1);
});

test('inTransaction rolls back what fn wrote when it throws; unique violations are recognised', (t) => {
  const db = openEngineDatabase(join(tempDir(t), 'berth.db'));
  onCleanup(t, () => db.close());
  const insert = () => db.prepare("INSERT INTO engine_volumes (name, driver, mountpoint, created_at) VALUES ('v', 'local', '/x', 'now')").run();
  assert.throws(() =>
    inTransaction(db, () => {
      insert();
      throw new Error('assertion: abort');
    }),
  );
  assert.equal(db.prepare('SELECT count(*) AS n FROM engine_volumes').get()?.['n'], 0);
  assert.equal(db.isTransaction, false);
  insert();
  let caught: unknown;
  try {
    insert();
  } catch (err) {
    caught = err;
  }
  assert.equal(isUniqueViolation(caught), true);
  assert.equal(isUniqueViolation(new Error('x')), false);
});
