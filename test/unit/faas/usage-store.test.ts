/**
 * The per-minute usage sums: calls summed per function and minute, kept
 * across a restart (written at close), `since` from the start of its
 * minute, minutes past the retention deleted; and the /system/usage
 * route's `since` (RFC 3339, Unix seconds, a duration back from now).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { isBerthError } from '../../../src/errors.ts';
import { parseSince, usageRoutes } from '../../../src/faas/routes/usage.ts';
import { UsageStore, type CallRecord } from '../../../src/faas/usage-store.ts';
import { tempDir } from '../../helpers/cleanup.ts';

const T = Date.UTC(2026, 11, 7, 8, 0, 0);
const callAt = (fn: string, at: number, extra: Partial<CallRecord> = {}): CallRecord => ({ fn, at, failed: false, durationMs: 10, cpuUs: 1000, gbSeconds: 0.5, peakBytes: 100, ...extra });

test('calls are summed per function and minute, durable across a restart, since counted from its minute', (t) => {
  const path = join(tempDir(t, 'faas-usage-'), 'berth.db');
  let db = openEngineDatabase(path);
  let store = new UsageStore(db, 'openfaas-fn', { flushMs: 0, now: () => T });
  store.add(callAt('a', T + 1_000));
  store.add(callAt('a', T + 59_000, { failed: true, durationMs: 30, cpuUs: 3000, peakBytes: 500 }));
  store.add(callAt('a', T + 61_000));
  store.add(callAt('b', T + 1_000, { gbSeconds: 2 }));
  store.close();
  db.close();
  db = openEngineDatabase(path);
  t.after(() => db.close());
  store = new UsageStore(db, 'openfaas-fn', { flushMs: 0, now: () => T });
  assert.equal(db.prepare('SELECT count(*) AS n FROM engine_function_usage').get()?.['n'], 3, 'one row per function per minute');
  assert.deepEqual(store.query(0), [
    { name: 'a', namespace: 'openfaas-fn', invocations: 3, failures: 1, durationSeconds: 0.05, cpuSeconds: 0.005, gbSeconds: 1.5, memoryPeakBytes: 500 },
    { name: 'b', namespace: 'openfaas-fn', invocations: 1, failures: 0, durationSeconds: 0.01, cpuSeconds: 0.001, gbSeconds: 2, memoryPeakBytes: 100 },
  ]);
  assert.equal(store.query(T + 30_000)[0]?.invocations, 3, 'since rounds down to its minute');
  assert.equal(store.query(T + 60_000)[0]?.invocations, 1);
  store.add(callAt('a', T + 62_000));
  assert.equal(store.query(T + 60_000)[0]?.invocations, 2, 'a call not yet written is counted');
});

test('minutes older than the retention are deleted', (t) => {
  const db = openEngineDatabase(join(tempDir(t, 'faas-usage-'), 'berth.db'));
  t.after(() => db.close());
  let now = T;
  const store = new UsageStore(db, 'openfaas-fn', { flushMs: 0, retentionMs: 3600_000, now: () => now });
  store.add(callAt('a', T - 2 * 3600_000));
  store.add(callAt('a', T - 60_000));
  store.flush();
  assert.equal(store.query(0)[0]?.invocations, 1);
  now += 3600_000;
  store.flush();
  assert.deepEqual(store.query(0), [], 'an hour on, the other minute is gone too');
});

test('since: RFC 3339, Unix seconds or a duration back from now; anything else refused naming it', async (t) => {
  assert.equal(parseSince('2026-12-07T08:00:00Z', 0), T);
  assert.equal(parseSince('2026-12-07T09:00:00+01:00', 0), T);
  assert.equal(parseSince(String(T / 1000), 0), T);
  assert.equal(parseSince('1h30m', T), T - 5_400_000);
  for (const bad of ['yesterday', '2026-13-45T00:00:00Z', '-1h']) {
    assert.throws(() => parseSince(bad, T), (err: unknown) => isBerthError(err, 'faas_query_invalid') && err.message.includes(`since ${JSON.stringify(bad)}`), bad);
  }
  const db = openEngineDatabase(join(tempDir(t, 'faas-usage-'), 'berth.db'));
  t.after(() => db.close());
  const store = new UsageStore(db, 'openfaas-fn', { flushMs: 0 });
  store.add(callAt('a', T + 1_000));
  const [r] = usageRoutes(store, () => T + 120_000);
  const reply = await r!.handler({ params: {}, query: new URLSearchParams('since=2m'), json: () => Promise.resolve(undefined), signal: new AbortController().signal });
  assert.equal(reply.status, 200);
  const body = (reply as { json: { since: string; functions: { invocations: number }[]; memoryBasis: string } }).json;
  assert.equal(body.since, '2026-12-07T08:00:00.000Z');
  assert.equal(body.functions[0]?.invocations, 1);
  assert.match(body.memoryBasis, /memory limit/);
});

test('a write that fails loses nothing: the sums wait for the next one', (t) => {
  const db = openEngineDatabase(join(tempDir(t, 'faas-usage-'), 'berth.db'));
  t.after(() => db.close());
  const store = new UsageStore(db, 'openfaas-fn', { flushMs: 0, now: () => T });
  store.add(callAt('a', T));
  db.exec('ALTER TABLE engine_function_usage RENAME TO moved_away');
  assert.throws(() => store.flush(), /engine_function_usage/);
  db.exec('ALTER TABLE moved_away RENAME TO engine_function_usage');
  store.add(callAt('a', T + 1_000));
  assert.equal(store.query(0)[0]?.invocations, 2);
});
