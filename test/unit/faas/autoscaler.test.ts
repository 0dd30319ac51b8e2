/**
 * The autoscaler's decisions on a fake clock and a fake load, against a
 * real function store: OpenFaaS's rule (ceil(load / (target × proportion))
 * within min and max), up at once, down only after the down window, never
 * below min, functions without the labels left alone; the labels checked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { isBerthError } from '../../../src/errors.ts';
import { autoscalingOf, desiredReplicas } from '../../../src/faas/autoscale-labels.ts';
import { Autoscaler, type LoadSource } from '../../../src/faas/autoscaler.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import type { Replica } from '../../../src/faas/replicas.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import { tempDir } from '../../helpers/cleanup.ts';

class FakeLoad implements LoadSource {
  inflights = 0;
  completions = 0;
  inflight(): number {
    return this.inflights;
  }
  completed(): number {
    return this.completions;
  }
}

function setup(t: TestContext, labels: Record<string, string>, cpu?: Map<string, number>) {
  const db = openEngineDatabase(join(tempDir(t, 'faas-autoscale-'), 'berth.db'));
  t.after(() => db.close());
  const store = new FunctionStore(db);
  store.create(parseDeployment({ service: 'fn', image: 'img:1', labels }), 1);
  const load = new FakeLoad();
  let now = 1_000_000;
  const reconciled: number[] = [];
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const replicas = [...(cpu?.keys() ?? [])].map((id) => ({ id, state: 'ready' }) as Replica);
  const a = new Autoscaler({
    store,
    replicas: { of: () => replicas, reconcile: () => (reconciled.push(store.mustGet('openfaas-fn', 'fn').replicas), Promise.resolve()) },
    load,
    namespace: 'openfaas-fn',
    logger: quiet,
    cpuNs: (r) => cpu?.get(r.id),
    tickMs: 0,
    windowMs: 2_000,
    now: () => now,
  });
  const advance = (ms: number, each = 500, step?: () => void): void => {
    for (let t0 = 0; t0 < ms; t0 += each) {
      now += each;
      step?.();
      a.tick();
    }
  };
  return { store, load, a, advance, reconciled, replicasWanted: () => store.mustGet('openfaas-fn', 'fn').replicas };
}

test("OpenFaaS's rule: ceil(load / (target × proportion)), within [max(min, 1), max]", () => {
  const a = { target: 5, targetProportion: 1 };
  assert.equal(desiredReplicas(15, a, 1, 20), 3, "OpenFaaS's example: 15 in flight, target 5");
  assert.equal(desiredReplicas(15, { target: 5, targetProportion: 0.9 }, 1, 20), 4, 'proportion 0.9 scales earlier');
  assert.equal(desiredReplicas(0, a, 2, 20), 2, 'never below min');
  assert.equal(desiredReplicas(0, a, 0, 20), 1, 'never below one (zero is the idler’s)');
  assert.equal(desiredReplicas(500, a, 1, 4), 4, 'never above max');
});

test('autoscaling labels: defaults, enabled only when asked for, bad values refused naming the label', () => {
  assert.deepEqual(autoscalingOf({}, 1, 20), { enabled: false, type: 'rps', target: 50, targetProportion: 0.9, downWindowMs: 30_000 });
  assert.equal(autoscalingOf({ 'com.openfaas.scale.max': '5' }, 1, 5).enabled, true);
  assert.equal(autoscalingOf({ 'com.openfaas.scale.type': 'capacity' }, 3, 3).enabled, false, 'min = max disables it');
  const c = autoscalingOf({ 'com.openfaas.scale.type': 'cpu', 'com.openfaas.scale.target': '500', 'com.openfaas.scale.target-proportion': '0.5', 'com.openfaas.scale.down.window': '2s' }, 1, 20);
  assert.deepEqual(c, { enabled: true, type: 'cpu', target: 500, targetProportion: 0.5, downWindowMs: 2000 });
  for (const [label, value] of [
    ['com.openfaas.scale.type', 'memory'],
    ['com.openfaas.scale.target', '0'],
    ['com.openfaas.scale.target', 'lots'],
    ['com.openfaas.scale.target-proportion', '1.5'],
    ['com.openfaas.scale.target-proportion', '0'],
    ['com.openfaas.scale.down.window', '10m'],
    ['com.openfaas.scale.down.window', 'soon'],
  ] as const) {
    assert.throws(
      () => parseDeployment({ service: 'fn', image: 'img', labels: { [label]: value } }),
      (err: unknown) => isBerthError(err, 'faas_deployment_invalid') && err.message.includes(`labels.${label}:`),
      `${label}=${value}`,
    );
  }
});

test('capacity: up at once under load, within max; down only after the down window, to min', (t) => {
  const s = setup(t, { 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '2', 'com.openfaas.scale.target-proportion': '1.0', 'com.openfaas.scale.max': '4', 'com.openfaas.scale.down.window': '3s' });
  s.advance(1000);
  assert.equal(s.replicasWanted(), 1, 'no load: min');
  s.load.inflights = 6;
  s.advance(2500);
  assert.equal(s.replicasWanted(), 3, '6 in flight, 2 per replica');
  s.load.inflights = 50;
  s.advance(2500);
  assert.equal(s.replicasWanted(), 4, 'held at max');
  s.load.inflights = 0;
  s.advance(2000);
  assert.equal(s.replicasWanted(), 4, 'not down within the window');
  s.advance(4000);
  assert.equal(s.replicasWanted(), 1, 'down to min once the window has passed');
  assert.ok(s.reconciled.every((n) => n >= 1 && n <= 4), `every change within [1, 4]: ${s.reconciled.join(",")}`);
});

test('a load that pauses shorter than the down window does not flap the replicas', (t) => {
  const s = setup(t, { 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '1', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.max': '5', 'com.openfaas.scale.down.window': '10s' });
  s.load.inflights = 3;
  s.advance(3000);
  assert.equal(s.replicasWanted(), 3);
  const changes = s.reconciled.length;
  for (let i = 0; i < 4; i++) {
    s.load.inflights = 0;
    s.advance(1500);
    s.load.inflights = 3;
    s.advance(3000);
  }
  assert.equal(s.replicasWanted(), 3);
  assert.equal(s.reconciled.length, changes, 'no change while the load comes and goes');
});

test('rps: answered requests per second over the window; min respected', (t) => {
  const s = setup(t, { 'com.openfaas.scale.target': '10', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '10', 'com.openfaas.scale.down.window': '1s' });
  s.store.setReplicas('openfaas-fn', 'fn', 2);
  // 25 answered every 500 ms: 50 per second, 10 per replica.
  s.advance(3000, 500, () => (s.load.completions += 25));
  assert.equal(s.replicasWanted(), 5);
  s.advance(4000);
  assert.equal(s.replicasWanted(), 2, 'idle: min (2), not 1');
});

test('cpu: milli-CPU from the replicas’ cgroups', (t) => {
  const cpu = new Map([['r1', 0]]);
  const s = setup(t, { 'com.openfaas.scale.type': 'cpu', 'com.openfaas.scale.target': '400', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.max': '8' }, cpu);
  // 1.5 CPUs busy: 750 ms of CPU time every 500 ms.
  s.advance(3000, 500, () => cpu.set('r1', (cpu.get('r1') ?? 0) + 750e6));
  assert.equal(s.replicasWanted(), 4, '1500 mCPU over 400 per replica');
});

test('a function without autoscaling labels keeps the replicas it was given', (t) => {
  const s = setup(t, {});
  s.store.setReplicas('openfaas-fn', 'fn', 3);
  s.load.inflights = 100;
  s.advance(5000, 500, () => (s.load.completions += 1000));
  assert.equal(s.replicasWanted(), 3);
  assert.deepEqual(s.reconciled, []);
});
