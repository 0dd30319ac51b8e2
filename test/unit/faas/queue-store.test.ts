import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { isBerthError } from '../../../src/errors.ts';
import { busyKey, CallStore, type CallRequest } from '../../../src/faas/queue/store.ts';
import { tempDir } from '../../helpers/cleanup.ts';

function open(t: TestContext): { store: CallStore; path: string } {
  const path = join(tempDir(t, 'faas-queue-'), 'berth.db');
  const db = openEngineDatabase(path);
  t.after(() => db.close());
  return { store: new CallStore(db), path };
}

const call = (id: string, fn = 'fn', extra: Partial<CallRequest> = {}): CallRequest => ({
  id,
  namespace: 'openfaas-fn',
  function: fn,
  method: 'POST',
  path: '/p',
  query: '?a=1',
  headers: [['X-Test', 'yes'], ['X-Test', 'twice']],
  body: Buffer.from(`body of ${id}`),
  ...extra,
});

test('accept is durable: another connection sees the call with its request as given; a taken id is refused', (t) => {
  const { store, path } = open(t);
  store.accept(call('a', 'fn', { callbackUrl: 'http://127.0.0.1:9/cb' }), 1000);
  assert.throws(() => store.accept(call('a')), (err: unknown) => isBerthError(err, 'faas_async_call_exists'));
  const other = openEngineDatabase(path);
  t.after(() => other.close());
  const seen = new CallStore(other).claim([], 1000);
  assert.ok(seen !== undefined);
  assert.equal(seen.call.id, 'a');
  assert.deepEqual(seen.call.headers, [['X-Test', 'yes'], ['X-Test', 'twice']]);
  assert.equal(seen.call.body.toString(), 'body of a');
  assert.equal(seen.call.path, '/p');
  assert.equal(seen.call.query, '?a=1');
  assert.equal(seen.call.callbackUrl, 'http://127.0.0.1:9/cb');
  assert.equal(store.get('a')?.state, 'running');
});

test('claim: a busy function is one of a namespace: the same name in another is another function', (t) => {
  const { store } = open(t);
  store.accept(call('1', 'f'), 0);
  store.accept(call('2', 'f', { namespace: 'staging' }), 0);
  assert.equal(store.claim([busyKey('openfaas-fn', 'f')], 10)?.call.id, '2');
  assert.equal(store.claim([busyKey('staging', 'f')], 10)?.call.id, '1');
});

test('claim: oldest first, not before next_at, not of a busy function', (t) => {
  const { store } = open(t);
  store.accept(call('1', 'f'), 0);
  store.accept(call('2', 'g'), 0);
  store.accept(call('3', 'f'), 0);
  assert.equal(store.claim([busyKey('openfaas-fn', 'f')], 10)?.call.id, '2', 'f is busy');
  const first = store.claim([], 10);
  assert.equal(first?.call.id, '1');
  store.retry(first.call.seq, first.attempt, { seconds: 0.1, status: 503 }, 500);
  assert.equal(store.claim([], 10)?.call.id, '3', 'call 1 waits for its back-off');
  assert.equal(store.claim([], 10), undefined);
  assert.equal(store.nextDue(), 500);
  const again = store.claim([], 500);
  assert.equal(again?.call.id, '1');
  assert.equal(again?.call.attempts, 1);
  const s = store.get('1')!;
  assert.equal(s.lastStatus, 503);
  assert.deepEqual(store.attempts('1').map((a) => [a.n, a.status, a.error]), [[1, 503, undefined], [2, undefined, undefined]]);
});

test('recover re-queues what was running (its try marked interrupted, not counted); done deletes the call and its tries', (t) => {
  const { store } = open(t);
  store.accept(call('x'), 0);
  store.accept(call('y'), 0);
  assert.equal(store.claim([], 0)?.call.id, 'x');
  assert.equal(store.recover(5), 1);
  const s = store.get('x')!;
  assert.equal(s.state, 'queued');
  assert.equal(s.attempts, 0);
  assert.match(store.attempts('x')[0]?.error ?? '', /interrupted/);
  const again = store.claim([], 5)!;
  assert.equal(again.call.id, 'x', 'still first in line');
  store.answered(again.call.seq, again.attempt, { seconds: 0.01, status: 200 });
  store.done(again.call.seq);
  assert.equal(store.get('x'), undefined);
  assert.equal(Number(store.db.prepare('SELECT count(*) AS n FROM engine_fn_call_attempts').get()?.['n']), 0, 'attempts go with the call');
});

test('dead letters: listed by function, replayed (one, or all of a function), deleted; the oldest past the limit dropped', (t) => {
  const { store } = open(t);
  for (const [id, fn] of [['d1', 'f'], ['d2', 'f'], ['d3', 'g'], ['q1', 'f']] as const) store.accept(call(id, fn), 0);
  for (let i = 0; i < 3; i++) {
    const c = store.claim([], 0)!;
    store.answered(c.call.seq, c.attempt, { seconds: 0, status: 503 });
    assert.deepEqual(store.dead(c.call.seq, '1 tries spent; last: status 503', 10), []);
  }
  assert.deepEqual(store.list({ state: 'dead', function: 'f' }).map((c) => c.id), ['d1', 'd2']);
  assert.deepEqual(store.list({ state: 'dead' }).map((c) => c.id), ['d1', 'd2', 'd3']);
  assert.deepEqual(store.list({ function: 'f' }).map((c) => `${c.id}:${c.state}`), ['d1:dead', 'd2:dead', 'q1:queued']);
  const d1 = store.mustGet('d1');
  assert.equal(d1.lastStatus, 503);
  assert.match(d1.lastError ?? '', /tries spent/);
  assert.ok(d1.deadAt !== undefined);
  assert.throws(() => store.replay('q1'), (err: unknown) => isBerthError(err, 'faas_async_call_busy'), 'only a dead call is replayed');
  store.replay('d3', 7);
  const d3 = store.mustGet('d3');
  assert.equal(d3.state, 'queued');
  assert.equal(d3.attempts, 0, 'a fresh count of tries');
  assert.equal(store.attempts('d3').length, 1, 'its earlier tries kept');
  assert.equal(store.replayFunction('f'), 2);
  assert.equal(store.count('dead'), 0);
  store.remove('q1');
  assert.equal(store.get('q1'), undefined);
  assert.throws(() => store.remove('q1'), (err: unknown) => isBerthError(err, 'faas_async_call_not_found'));
  const running = store.claim([], 10)!;
  assert.throws(() => store.remove(running.call.id), (err: unknown) => isBerthError(err, 'faas_async_call_busy'));

  // The limit: 2 dead letters kept, the oldest go.
  const { store: small } = open(t);
  for (const id of ['o1', 'o2', 'o3']) small.accept(call(id), 0);
  const dropped: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = small.claim([], 0)!;
    dropped.push(...small.dead(c.call.seq, 'x', 2));
  }
  assert.deepEqual(dropped, ['o1']);
  assert.deepEqual(small.list({ state: 'dead' }).map((c) => c.id), ['o2', 'o3']);
});
