import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MetricsRegistry } from '../../../src/api/metrics.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { isBerthError } from '../../../src/errors.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { GatewayMetrics } from '../../../src/faas/metrics.ts';
import { functionStatus } from '../../../src/faas/routes/functions.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import type { Replicas } from '../../../src/faas/replicas.ts';
import { tempDir } from '../../helpers/cleanup.ts';

const spec = (extra: Record<string, unknown> = {}) => parseDeployment({ service: 'fn', image: 'img:1', envVars: { A: 'b' }, labels: { 'com.openfaas.scale.zero': 'true' }, ...extra });

test('function records: create, refuse a second, update to the next revision, scale, remove; durable in the engine database', (t) => {
  const path = join(tempDir(t, 'faas-store-'), 'berth.db');
  const db = openEngineDatabase(path);
  t.after(() => db.close());
  const store = new FunctionStore(db);
  const made = store.create(spec(), 1);
  assert.equal(made.revision, 1);
  assert.equal(made.replicas, 1);
  assert.throws(() => store.create(spec(), 1), (err: unknown) => isBerthError(err, 'faas_function_exists'));
  const up = store.update(spec({ image: 'img:2' }), 1);
  assert.equal(up.revision, 2);
  assert.equal(up.spec.image, 'img:2');
  assert.equal(up.createdAt, made.createdAt);
  assert.equal(store.setReplicas('openfaas-fn', 'fn', 0).replicas, 0);
  const other = openEngineDatabase(path);
  t.after(() => other.close());
  const seen = new FunctionStore(other).mustGet('openfaas-fn', 'fn');
  assert.deepEqual(seen.spec, up.spec, 'read back through the same checks');
  assert.equal(seen.replicas, 0);
  store.remove('openfaas-fn', 'fn');
  assert.throws(() => store.remove('openfaas-fn', 'fn'), (err: unknown) => isBerthError(err, 'faas_function_not_found'));
  assert.throws(() => store.update(spec(), 1), (err: unknown) => isBerthError(err, 'faas_function_not_found'));
});

test('a scale from zero commits without its own fsync, seen by another connection, and leaves synchronous = FULL, also for a missing function', (t) => {
  const path = join(tempDir(t, 'faas-store-'), 'berth.db');
  const db = openEngineDatabase(path);
  t.after(() => db.close());
  const store = new FunctionStore(db);
  const synchronous = (): unknown => db.prepare('PRAGMA synchronous').get()?.['synchronous'];
  const FULL = 2;
  store.create(spec(), 0);
  assert.equal(store.setReplicas('openfaas-fn', 'fn', 1, false).replicas, 1);
  assert.equal(synchronous(), FULL);
  assert.throws(() => store.setReplicas('openfaas-fn', 'nope', 1, false), (err: unknown) => isBerthError(err, 'faas_function_not_found'));
  assert.equal(synchronous(), FULL);
  const other = openEngineDatabase(path);
  t.after(() => other.close());
  assert.equal(new FunctionStore(other).mustGet('openfaas-fn', 'fn').replicas, 1, 'committed: another connection reads it');
});

test('a hand-edited spec fails naming the function', (t) => {
  const db = openEngineDatabase(join(tempDir(t, 'faas-store-'), 'berth.db'));
  t.after(() => db.close());
  const store = new FunctionStore(db);
  store.create(spec(), 1);
  db.prepare("UPDATE engine_functions SET spec = '{\"service\":\"fn\"}'").run();
  assert.throws(() => store.get('openfaas-fn', 'fn'), (err: unknown) => isBerthError(err, 'engine_record_corrupt') && err.message.includes('function "fn"'));
});

test("FunctionStatus has OpenFaaS's fields", (t) => {
  const db = openEngineDatabase(join(tempDir(t, 'faas-store-'), 'berth.db'));
  t.after(() => db.close());
  const rec = new FunctionStore(db).create(spec({ limits: { memory: '128Mi' } }), 1);
  const metrics = new GatewayMetrics('openfaas-fn', new MetricsRegistry(), () => []);
  metrics.invoked('fn', 200, 0.01);
  const replicas = { ready: () => 1 } as unknown as Replicas;
  assert.deepEqual(functionStatus(rec, { replicas, metrics }), {
    name: 'fn',
    namespace: 'openfaas-fn',
    image: 'img:1',
    envVars: { A: 'b' },
    labels: { 'com.openfaas.scale.zero': 'true' },
    annotations: {},
    secrets: [],
    limits: { memory: '128Mi' },
    readOnlyRootFilesystem: false,
    invocationCount: 1,
    replicas: 1,
    availableReplicas: 1,
    createdAt: rec.createdAt,
    // berth's: the limits as enforced, and the timeouts that apply (the watchdog's defaults here).
    limitsEnforced: { memoryBytes: 128 * 2 ** 20 },
    timeouts: { exec_timeout: '10s', read_timeout: '10s', write_timeout: '10s', upstream_timeout: '65s' },
  });
});
