/**
 * The scaler's memory is bounded by the functions deployed: a request for
 * a name no function has, and a deleted function, leave nothing behind
 * (src/faas/scaler.ts), so a flood of random names cannot grow berthd.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import type { Replicas } from '../../../src/faas/replicas.ts';
import { Scaler } from '../../../src/faas/scaler.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import { tempDir } from '../../helpers/cleanup.ts';

/** A scaler over a fresh store, both closed after the test. */
function setup(t: TestContext): { store: FunctionStore; scaler: Scaler } {
  const db = openEngineDatabase(join(tempDir(t, 'faas-scaler-'), 'berth.db'));
  t.after(() => db.close());
  const store = new FunctionStore(db);
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const scaler = new Scaler({ store, replicas: {} as Replicas, namespace: 'openfaas-fn', logger: quiet, tickMs: 60_000 });
  t.after(() => scaler.close());
  return { store, scaler };
}

test('unbounded memory: requests for 10,000 unknown names keep nothing; a deleted function is forgotten', (t) => {
  const { store, scaler } = setup(t);
  for (let i = 0; i < 10_000; i++) scaler.begin(`random-${i}`)();
  assert.equal(scaler.tracked(), 0);

  store.create(parseDeployment({ service: 'fn', image: 'img' }), 0);
  const release = scaler.begin('fn');
  assert.equal(scaler.tracked(), 1);
  release();
  assert.equal(scaler.tracked(), 1, 'a deployed function keeps its last use (for scale to zero)');
  store.remove('openfaas-fn', 'fn');
  scaler.forget('fn');
  assert.equal(scaler.tracked(), 0);

  store.create(parseDeployment({ service: 'gone', image: 'img' }), 0);
  const inflight = scaler.begin('gone');
  store.remove('openfaas-fn', 'gone');
  scaler.forget('gone');
  inflight();
  assert.equal(scaler.tracked(), 0, 'deleted while a request was in flight');
});

test('the relay’s batches count as begin() and its release count: in flight, completed, last use', (t) => {
  const { store, scaler } = setup(t);
  store.create(parseDeployment({ service: 'fn', image: 'img' }), 1);
  const release = scaler.begin('fn');
  scaler.relayed('fn', 5, 2);
  assert.equal(scaler.inflight('fn'), 4, 'one of the gateway’s and three of the relay’s');
  assert.equal(scaler.completed('fn'), 2);
  scaler.relayed('fn', 0, 3);
  release();
  assert.equal(scaler.inflight('fn'), 0);
  assert.equal(scaler.completed('fn'), 6);
  assert.equal(scaler.tracked(), 1);
});
