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
  /** Containers whose start fails (a primed process killed meanwhile). */
  readonly failStart = new Set<string>();
  /** Created containers carried through the first half of their start. */
  readonly primed = new Set<string>();
  private n = 0;

  create(req: { image: string; options: RunOptions }): Promise<FakeContainer> {
    if (this.failCreate !== undefined) return Promise.reject(new Error(this.failCreate));
    const c: FakeContainer = { id: `c${++this.n}`, name: req.options.name ?? '', labels: req.options.labels, state: 'created' };
    this.containers.set(c.id, c);
    this.log.push(`create ${c.id}`);
    return Promise.resolve(c);
  }

  start(id: string, onPhase?: (name: string) => void): Promise<void> {
    if (this.failStart.has(id)) {
      this.containers.get(id)!.state = 'exited';
      this.primed.delete(id);
      this.log.push(`start failed ${id}`);
      return Promise.reject(new Error(`container "${id}": the container process exited before it could start`));
    }
    this.containers.get(id)!.state = 'running';
    this.log.push(`start ${id}${this.primed.delete(id) ? ' (primed)' : ''}`);
    onPhase?.('runtime start');
    return Promise.resolve();
  }

  prime(id: string): Promise<void> {
    if (this.containers.get(id)?.state !== 'created') return Promise.reject(new Error(`container "${id}": not created`));
    this.primed.add(id);
    this.log.push(`prime ${id}`);
    return Promise.resolve();
  }

  unprime(id: string): Promise<void> {
    if (this.primed.delete(id)) this.log.push(`unprime ${id}`);
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

  find(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new Error(`container "${id}": not found`);
    return c;
  }

  remove(id: string): Promise<void> {
    this.containers.delete(id);
    this.primed.delete(id);
    this.log.push(`remove ${id}`);
    return Promise.resolve();
  }

  /** The container exits on its own. */
  die(id: string): void {
    this.containers.get(id)!.state = 'exited';
    this.events.publish('container', 'die', id);
  }
}

async function setup(t: TestContext, extra: { primedMax?: number } = {}): Promise<{ engine: FakeEngine; store: FunctionStore; replicas: Replicas }> {
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
    ...extra,
  });
  t.after(() => replicas.close());
  return { engine, store, replicas };
}

const spec = (image = 'img:1', service = 'fn') => parseDeployment({ service, image });

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
  const prepared = [...engine.containers.values()];
  assert.deepEqual(prepared.map((c) => c.state), ['created'], 'at zero nothing runs: one replica prepared, never started');
  assert.equal(replicas.ready('fn'), 0);
  store.setReplicas('openfaas-fn', 'fn', 1);
  await replicas.reconcile('fn');
  assert.equal(replicas.pick('fn')?.id, prepared[0]!.id, 'the prepared replica is the one started from zero');
  assert.equal(engine.containers.size, 1);
  store.remove('openfaas-fn', 'fn');
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0);
  assert.equal(replicas.of('fn').length, 0);
});

test('a prepared replica: none for a function deployed at zero, one for the new revision after an update at zero, none once it is deleted', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 0);
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0, 'deployed at zero: nothing made');
  store.setReplicas('openfaas-fn', 'fn', 1);
  await replicas.reconcile('fn');
  store.setReplicas('openfaas-fn', 'fn', 0);
  await replicas.reconcile('fn');
  const [first] = [...engine.containers.values()];
  assert.deepEqual([first?.state, first?.labels['com.berth.faas.revision']], ['created', '1']);
  store.update(spec('img:2'), 0);
  await replicas.reconcile('fn');
  const now = [...engine.containers.values()];
  assert.deepEqual(now.map((c) => [c.state, c.labels['com.berth.faas.revision']]), [['created', '2']], 'the old revision\'s removed, one of the new prepared');
  assert.ok(!engine.containers.has(first!.id));
  assert.ok(engine.log.every((l) => !l.startsWith(`start ${now[0]!.id}`)), 'never started');
  store.remove('openfaas-fn', 'fn');
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0);
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

test('at start, the prepared replica a previous berthd left (created, current revision, function at zero) is kept and started on the next scale-up', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 0);
  engine.containers.set('prep', { id: 'prep', name: 'fn-aaaaaa', labels: { 'com.openfaas.function': 'fn', 'com.berth.faas.revision': '1' }, state: 'created' });
  engine.containers.set('old', { id: 'old', name: 'fn-bbbbbb', labels: { 'com.openfaas.function': 'fn', 'com.berth.faas.revision': '0' }, state: 'created' });
  await replicas.start();
  await replicas.reconcile('fn');
  assert.deepEqual([...engine.containers.keys()], ['prep'], 'the old revision\'s removed, the prepared one kept');
  assert.equal(engine.containers.get('prep')?.state, 'created');
  store.setReplicas('openfaas-fn', 'fn', 1);
  await replicas.reconcile('fn');
  assert.equal(replicas.pick('fn')?.id, 'prep');
  assert.deepEqual(engine.log.filter((l) => l.startsWith('create')), [], 'nothing created');
});

/** Deploys `fn` with one replica, then takes it to zero: it ran, so it keeps a prepared replica. */
async function ranThenZero(store: FunctionStore, replicas: Replicas, fn: string): Promise<void> {
  if (store.get('openfaas-fn', fn) === undefined) store.create(spec('img:1', fn), 1);
  else store.setReplicas('openfaas-fn', fn, 1);
  await replicas.reconcile(fn);
  assert.equal(replicas.ready(fn), 1);
  store.setReplicas('openfaas-fn', fn, 0);
  await replicas.reconcile(fn);
}

test('at zero the prepared replica is primed, and a request from zero starts that one (trace: primed)', async (t) => {
  const { engine, store, replicas } = await setup(t);
  await ranThenZero(store, replicas, 'fn');
  const [prepared] = [...engine.containers.values()];
  assert.equal(prepared?.state, 'created');
  assert.deepEqual([...engine.primed], [prepared.id], 'primed while at zero');
  assert.equal(replicas.primedOf('fn'), prepared.id);
  store.setReplicas('openfaas-fn', 'fn', 1);
  const phases: string[] = [];
  const { ColdStart } = await import('../../../src/faas/trace.ts');
  const trace = new ColdStart('fn');
  await replicas.reconcile('fn', trace);
  phases.push(...Object.keys(trace.phases));
  assert.equal(replicas.pick('fn')?.id, prepared.id);
  assert.ok(engine.log.includes(`start ${prepared.id} (primed)`), engine.log.join(', '));
  assert.deepEqual(phases.slice(0, 3), ['scheduled', 'primed', 'created']);
  assert.equal(replicas.primedOf('fn'), undefined);
  store.remove('openfaas-fn', 'fn');
  await replicas.reconcile('fn');
  assert.equal(engine.containers.size, 0);
  assert.equal(engine.primed.size, 0);
});

test('a primed replica that cannot start (its process killed) is removed; another is created and serves the same request', async (t) => {
  const { engine, store, replicas } = await setup(t);
  await ranThenZero(store, replicas, 'fn');
  const primed = replicas.primedOf('fn')!;
  engine.failStart.add(primed);
  store.setReplicas('openfaas-fn', 'fn', 1);
  const waiting = replicas.acquire('fn', 5_000);
  await replicas.reconcile('fn');
  const r = await waiting;
  assert.notEqual(r.id, primed);
  assert.ok(!engine.containers.has(primed), 'the one that failed is removed');
  assert.deepEqual([...engine.containers.values()].map((c) => c.state), ['running']);
  const tail = engine.log.slice(engine.log.indexOf(`start failed ${primed}`));
  assert.deepEqual(tail, [`start failed ${primed}`, `remove ${primed}`, `create ${r.id}`, `start ${r.id}`]);
});

test('--faas-primed-max: the most recently used functions at zero keep theirs primed, the others a plain prepared one', async (t) => {
  const { engine, store, replicas } = await setup(t, { primedMax: 1 });
  await ranThenZero(store, replicas, 'a');
  const a = replicas.primedOf('a');
  assert.ok(a !== undefined);
  await delay(5);
  await ranThenZero(store, replicas, 'b');
  const b = replicas.primedOf('b');
  assert.ok(b !== undefined, 'b was used last: it takes the place');
  assert.equal(replicas.primedOf('a'), undefined, 'a gives its place back');
  assert.deepEqual([...engine.primed], [b]);
  assert.equal(engine.containers.get(a)?.state, 'created', 'a keeps its prepared replica');
  assert.ok(engine.log.includes(`unprime ${a}`));
  // b's replica is taken by a request: its place goes to a, after the cold start.
  store.setReplicas('openfaas-fn', 'b', 1);
  await replicas.reconcile('b');
  await until(() => replicas.primedOf('a') === a);
  assert.deepEqual([...engine.primed], [a]);
});

test('--faas-primed-max 0: prepared replicas are never primed', async (t) => {
  const { engine, store, replicas } = await setup(t, { primedMax: 0 });
  await ranThenZero(store, replicas, 'fn');
  assert.equal(engine.containers.size, 1);
  assert.equal(engine.primed.size, 0);
  assert.ok(engine.log.every((l) => !l.startsWith('prime')));
});

test('at start, an adopted prepared replica (a new engine un-primed it) is primed again', async (t) => {
  const { engine, store, replicas } = await setup(t);
  store.create(spec(), 0);
  engine.containers.set('prep', { id: 'prep', name: 'fn-aaaaaa', labels: { 'com.openfaas.function': 'fn', 'com.berth.faas.revision': '1' }, state: 'created' });
  await replicas.start();
  await replicas.reconcile('fn');
  assert.deepEqual([...engine.primed], ['prep']);
  assert.equal(replicas.primedOf('fn'), 'prep');
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await delay(10)) {
    if (Date.now() > end) throw new Error('timed out');
  }
}
