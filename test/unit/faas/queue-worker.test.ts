/**
 * The async worker against a stand-in gateway (a node http server on
 * 127.0.0.1:0 answering /function/ as a test says): a try past its time is
 * retried, at most maxInflightPerFunction tries of a function at once, a
 * callback that keeps failing makes a dead letter, stopping puts a try
 * under way back in the queue without counting it.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MetricsRegistry } from '../../../src/api/metrics.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { QueueMetrics } from '../../../src/faas/queue/metrics.ts';
import { DEFAULT_RETRY } from '../../../src/faas/queue/retry.ts';
import { CallStore } from '../../../src/faas/queue/store.ts';
import { AsyncQueue, DEFAULT_ASYNC, type AsyncQueueOptions } from '../../../src/faas/queue/worker.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import { until } from '../../helpers/daemon.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

async function server(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => {
    s.closeAllConnections();
    return new Promise((resolve) => s.close(resolve));
  });
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function setup(t: TestContext, gateway: (req: IncomingMessage, res: ServerResponse) => void, options: Partial<AsyncQueueOptions> = {}) {
  const db = openEngineDatabase(join(tempDir(t, 'faas-worker-'), 'berth.db'));
  const functions = new FunctionStore(db);
  functions.create(parseDeployment({ service: 'fn', image: 'img:1' }), 0);
  const calls = new CallStore(db);
  const registry = new MetricsRegistry();
  const queue = new AsyncQueue({
    calls,
    functions,
    namespace: 'openfaas-fn',
    logger: quiet,
    metrics: new QueueMetrics('openfaas-fn', registry, calls),
    options: { ...DEFAULT_ASYNC, retry: { ...DEFAULT_RETRY, minWaitMs: 10, maxWaitMs: 20 }, callbackMinWaitMs: 5, ...options },
  });
  const [host, port] = (await server(t, gateway)).split(':');
  onCleanup(t, async () => {
    await queue.close();
    db.close();
  });
  queue.start({ host: host!, port: Number(port) });
  const add = (id: string, callbackUrl?: string): void => {
    calls.accept({ id, namespace: 'openfaas-fn', function: 'fn', method: 'POST', path: '', query: '', headers: [], body: Buffer.from(id), ...(callbackUrl === undefined ? {} : { callbackUrl }) });
    queue.wake();
  };
  return { calls, queue, add, registry };
}

test('a try past its time is retried; the tries say so', async (t) => {
  let n = 0;
  let second!: (res: ServerResponse) => void;
  const secondArrived = new Promise<ServerResponse>((resolve) => (second = resolve));
  const { calls, add } = await setup(t, (req, res) => {
    n++;
    req.resume();
    // The first try never answers; the second waits for the test.
    if (n === 2) second(res);
  }, { attemptTimeoutMs: 200 });
  add('slow-1');
  const res = await secondArrived;
  const tries = calls.attempts('slow-1');
  assert.equal(tries.length, 2);
  assert.match(tries[0]?.error ?? '', /no answer within 200ms/);
  assert.equal(tries[1]?.status, undefined, 'the second try is under way');
  assert.equal(calls.get('slow-1')?.attempts, 1);
  res.end('late but fine');
  await until('slow-1 done', () => (calls.get('slow-1') === undefined ? true : undefined));
  assert.equal(n, 2);
});

test('at most maxInflightPerFunction tries of a function at once, in the order accepted', async (t) => {
  let now = 0;
  let most = 0;
  const order: string[] = [];
  const { calls, add } = await setup(t, (req, res) => {
    now++;
    most = Math.max(most, now);
    order.push(String(req.headers['x-call-id']));
    req.resume();
    setTimeout(() => {
      now--;
      res.end('ok');
    }, 20);
  }, { maxInflightPerFunction: 2 });
  const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
  for (const id of ids) add(id);
  await until('all done', () => (calls.list().length === 0 ? true : undefined));
  assert.equal(most, 2);
  assert.deepEqual(order, ids);
});

test('a callback failing every time: tried callbackAttempts times, then a dead letter saying why', async (t) => {
  let posts = 0;
  const receiver = await server(t, (req, res) => {
    posts++;
    req.resume();
    res.statusCode = 500;
    res.end();
  });
  const { calls, add, registry } = await setup(t, (req, res) => {
    req.resume();
    res.end('answer');
  }, { callbackAttempts: 3 });
  add('cb-1', `http://${receiver}/cb`);
  const dead = await until('cb-1 dead', () => (calls.get('cb-1')?.state === 'dead' ? calls.get('cb-1') : undefined));
  assert.equal(posts, 3);
  assert.match(dead.lastError ?? '', /callback to http:\/\/127\.0\.0\.1:\d+\/cb failed 3 times; last: status 500/);
  assert.equal(dead.lastStatus, 200, "the function's answer is recorded");
  assert.match(registry.render(), /^gateway_async_callbacks_total\{function_name="fn.openfaas-fn",result="failed"\} 1$/m);
});

test('stopping during a try: back in the queue, the try marked interrupted and not counted', async (t) => {
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const { calls, add, queue } = await setup(t, () => reached());
  add('stop-1');
  await arrived;
  await queue.close();
  const c = calls.get('stop-1');
  assert.equal(c?.state, 'queued');
  assert.equal(c?.attempts, 0);
  assert.match(calls.attempts('stop-1')[0]?.error ?? '', /interrupted/);
});

test('a call of a function no longer deployed is a dead letter at once', async (t) => {
  const { calls, queue } = await setup(t, () => assert.fail('not called'));
  calls.accept({ id: 'gone-1', namespace: 'openfaas-fn', function: 'removed', method: 'POST', path: '', query: '', headers: [], body: Buffer.alloc(0) });
  queue.wake();
  const dead = await until('gone-1 dead', () => (calls.get('gone-1')?.state === 'dead' ? calls.get('gone-1') : undefined));
  assert.match(dead.lastError ?? '', /function "removed": not deployed/);
});

test('a call falling due while the queue looks for it is still tried (the clock moves between the claim and the timer)', async (t) => {
  const { calls, queue } = await setup(t, (req, res) => {
    req.resume();
    res.end('ok');
  });
  const dueAt = Date.now() + 5;
  // The claim sees the call not yet due; by the time it returns, it is.
  const claim = calls.claim.bind(calls);
  calls.claim = (busy, now) => {
    const r = claim(busy, now);
    while (Date.now() <= dueAt);
    return r;
  };
  calls.accept({ id: 'edge-1', namespace: 'openfaas-fn', function: 'fn', method: 'POST', path: '', query: '', headers: [], body: Buffer.alloc(0) }, dueAt);
  queue.wake();
  await until('edge-1 done', () => (calls.get('edge-1') === undefined ? true : undefined), 5000);
});
