/**
 * Reconciliation of a function's replicas against a fake engine (records
 * in memory, every replica "listening" on one loopback server on port 0):
 * what is started, when what is retired, what replaces a dead replica.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { delay } from '../../../src/delay.ts';
import type { Engine } from '../../../src/engine/engine.ts';
import { EngineEvents } from '../../../src/engine/events.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { isBerthError } from '../../../src/errors.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { Replicas } from '../../../src/faas/replicas.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import type { RunOptions } from '../../../src/engine/spec/options.ts';
import { tempDir } from '../../helpers/cleanup.ts';

interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: 'created' | 'running' | 'exited';
}

class FakeEngine {
  readonly events = new EngineEvents();
  readonly containers = new Map<string, FakeContainer>();
  readonly log: string[] = [];
  failCreate: string | undefined;
  private n = 0;

  create(req: { image: string; options: RunOptions }): Promise<FakeContainer> {
    if (this.failCreate !== undefined) return Promise.reject(new Error(this.failCreate));
    const c: FakeContainer = { id: `c${++this.n}`, name: req.options.name ?? '', labels: req.options.labels, state: 'created' };
    this.containers.set(c.id, c);
    this.log.push(`create ${c.id}`);
    return Promise.resolve(c);
  }

  start(id: string): Promise<void> {
    this.containers.get(id)!.state = 'running';
    this.log.push(`start ${id}`);
    return Promise.resolve();
  }

  /** Images without `fprocess`: replicas run the image's own server. */
  readonly images = { readConfig: (): Promise<unknown> => Promise.resolve({ config: { Env: ['PATH=/bin'] } }) };

  resolveImage(image: string): Promise<unknown> {
    return Promise.resolve({ image });
  }

  view(id: string): unknown {
    const c = this.containers.get(id);
    return { record: c, sandbox: { endpoints: [{ ipv4: '127.0.0.1/8' }] } };
  }

  /** No cgroup: replicas are metered by their watchdog only. */
  runtimeRecord(): Promise<unknown> {
    return Promise.resolve({});
  }

  list(): unknown[] {
    return [...this.containers.values()].map((c) => ({ record: c }));
  }

  remove(id: string): Promise<void> {
    this.containers.delete(id);
    this.log.push(`remove ${id}`);
    return Promise.resolve();
  }

  /** The container exits on its own. */
  die(id: string): void {
    this.containers.get(id)!.state = 'exited';
    this.events.publish('container', 'die', id);
  }
}

async function setup(t: TestContext): Promise<{ engine: FakeEngine; store: FunctionStore; replicas: Replicas }> {
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const db = openEngineDatabase(join(tempDir(t, 'faas-replicas-'), 'berth.db'));
  t.after(() => db.close());
  const engine = new FakeEngine();
  const store = new FunctionStore(db);
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const replicas = new Replicas({
    engine: engine as unknown as Engine,
    store,
    namespace: 'openfaas-fn',
    logger: quiet,
    replicaPort: (server.address() as { port: number }).port,
    readyTimeoutMs: 5_000,
  });
  t.after(() => replicas.close());
  return { engine, store, replicas };
}

const spec = (image = 'img:1') => parseDeployment({ service: 'fn', image });

test('a deployed function gets its replicas, labelled with the function and its revision', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 2);
  await replicas.reconcile('fn');
  assert.equal(replicas.ready('fn'), 2);
  const labels = [...engine.containers.values()].map((c) => [c.labels['com.openfaas.function'], c.labels['com.berth.faas.revision'], c.state]);
  assert.deepEqual(labels, [['fn', '1', 'running'], ['fn', '1', 'running']]);
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 2, 'reconciling again changes nothing');
});

test('an update retires the old replica only after the new one is ready, and after its requests are answered', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 1);
  await replicas.reconcile('fn');
  const old = replicas.pick('fn')!;
  old.inflight = 1;
  store.update(spec('img:2'), 1);
  const done = replicas.reconcile('fn');
  await delay(100);
  assert.ok(engine.containers.has(old.id), 'kept while it serves a request');
  assert.notEqual(replicas.pick('fn')?.id, old.id, 'new requests go to the new replica');
  assert.equal(replicas.pick('fn')?.revision, 2);
  old.inflight = 0;
  await done;
  assert.ok(!engine.containers.has(old.id));
  const order = engine.log.filter((l) => !l.startsWith('start'));
  assert.deepEqual(order, ['create c1', 'create c2', 'remove c1']);
});

test('a replica that dies is removed and replaced; scaling to zero and deleting remove them all', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 1);
  await replicas.reconcile('fn');
  const first = replicas.pick('fn')!;
  engine.die(first.id);
  await replicas.reconcile('fn');
  assert.equal(replicas.ready('fn'), 1);
  assert.notEqual(replicas.pick('fn')?.id, first.id);
  assert.ok(!engine.containers.has(first.id));
  store.setReplicas('openfaas-fn', 'fn', 0);
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0);
  store.setReplicas('openfaas-fn', 'fn', 1);
  await replicas.reconcile('fn');
  store.remove('openfaas-fn', 'fn');
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0);
  assert.equal(replicas.of('fn').length, 0);
});

test('a replica that cannot start: a waiting request is told why', async (t) => {
  const { engine, store, replicas } = await setup(t);
  engine.failCreate = 'image "img:1": not in the store';
  store.create(spec(), 1);
  const waiting = replicas.acquire('fn', 5_000);
  void replicas.reconcile('fn');
  await assert.rejects(waiting, (err: unknown) => isBerthError(err, 'faas_replica_failed') && err.message.includes('not in the store'));
  await assert.rejects(replicas.acquire('nothing', 50), (err: unknown) => isBerthError(err, 'faas_replica_timeout'));
});

test('at start, replicas of the current revision that run are adopted; others are removed', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 1);
  engine.containers.set('keep', { id: 'keep', name: 'fn-aaaaaa', labels: { 'com.openfaas.function': 'fn', 'com.berth.faas.revision': '1' }, state: 'running' });
  engine.containers.set('stale', { id: 'stale', name: 'fn-bbbbbb', labels: { 'com.openfaas.function': 'fn', 'com.berth.faas.revision': '0' }, state: 'running' });
  engine.containers.set('orphan', { id: 'orphan', name: 'gone-cccccc', labels: { 'com.openfaas.function': 'gone' }, state: 'running' });
  engine.containers.set('other', { id: 'other', name: 'web', labels: {}, state: 'running' });
  await replicas.start();
  await replicas.acquire('fn', 5_000);
  assert.deepEqual([...engine.containers.keys()].sort(), ['keep', 'other']);
  assert.equal(replicas.pick('fn')?.id, 'keep');
});
