/**
 * Metering's attribution against fake cgroups and a real store: the
 * watchdog's account taken as it is (and only from a replica running the
 * watchdog), a long-lived server's CPU time shared among the calls in
 * flight (idle time billed to none), the peak reset when a replica goes
 * from idle to busy, GB-seconds on the limit else the peak, an OOM kill
 * during a failed call named, and the per-minute sums.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MetricsRegistry } from '../../../src/api/metrics.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import type { ReplicaCgroup } from '../../../src/faas/cgroup-usage.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { Metering, parseUsageHeader } from '../../../src/faas/metering.ts';
import type { Replica } from '../../../src/faas/replicas.ts';
import { FunctionStore } from '../../../src/faas/store.ts';
import { UsageMetrics } from '../../../src/faas/usage-metrics.ts';
import { UsageStore } from '../../../src/faas/usage-store.ts';
import { tempDir } from '../../helpers/cleanup.ts';

class FakeCgroup {
  cpu = 0;
  peak = 0;
  oom = 0;
  resets = 0;
  cpuNs(): number {
    return this.cpu;
  }
  peakBytes(): number {
    return this.peak;
  }
  oomKills(): number {
    return this.oom;
  }
  resetPeak(): boolean {
    this.resets++;
    return true;
  }
  close(): void {}
}

function setup(t: TestContext, deployment: Record<string, unknown> = {}) {
  const db = openEngineDatabase(join(tempDir(t, 'faas-metering-'), 'berth.db'));
  t.after(() => db.close());
  const store = new FunctionStore(db);
  store.create(parseDeployment({ service: 'fn', image: 'img', ...deployment }), 1);
  const registry = new MetricsRegistry();
  const usage = new UsageStore(db, 'openfaas-fn', { flushMs: 0 });
  const metering = new Metering({ store, namespace: 'openfaas-fn', metrics: new UsageMetrics('openfaas-fn', registry, () => []), usage });
  const cg = new FakeCgroup();
  const replica = (watchdog: boolean): Replica => ({ id: 'r', name: 'fn-1', fn: 'fn', revision: 1, address: '127.0.0.1', port: 8080, watchdog, state: 'ready', inflight: 0, cgroup: cg as unknown as ReplicaCgroup });
  return { store, registry, usage, metering, cg, replica };
}

/** An ended answer as node:http gives it to the proxy. */
const answer = (status: number, headers: Record<string, string>, trailers: Record<string, string> = {}): IncomingMessage =>
  ({ statusCode: status, headers, trailers, complete: true }) as unknown as IncomingMessage;

const metric = (text: string, name: string, labels = 'function_name="fn.openfaas-fn"'): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
};

test('X-Berth-Usage: the watchdog’s format, and nothing else', () => {
  assert.deepEqual(parseUsageHeader('cpu_us=1500 maxrss_kb=2048 exit=0'), { cpuUs: 1500, maxRssKb: 2048, exit: 0 });
  for (const bad of [undefined, '', 'cpu_us=1 maxrss_kb=2', 'cpu_us=-1 maxrss_kb=2 exit=0', ['cpu_us=1 maxrss_kb=2 exit=0'], 'cpu_us=1 maxrss_kb=2 exit=0; x=1']) {
    assert.equal(parseUsageHeader(bad), undefined, JSON.stringify(bad));
  }
});

test('a forking watchdog’s account is taken as it is (header, or the trailer it announced); the cgroup is not read again', (t) => {
  const s = setup(t);
  const r = s.replica(true);
  const a = s.metering.begin('fn', r);
  s.cg.cpu += 5e9; // the replica's other CPU use is not this call's
  a.answered(answer(200, { 'x-berth-usage': 'cpu_us=2500 maxrss_kb=3072 exit=0' }));
  a.end(200);
  const b = s.metering.begin('fn', r);
  b.answered(answer(200, { trailer: 'X-Berth-Usage' }, { 'x-berth-usage': 'cpu_us=500 maxrss_kb=1024 exit=0' }));
  b.end(200);
  const text = s.registry.render();
  assert.equal(metric(text, 'berth_function_cpu_seconds_total'), 0.003);
  assert.equal(metric(text, 'berth_function_memory_peak_bytes_sum'), (3072 + 1024) * 1024);
  const [u] = s.usage.query(0);
  assert.equal(u?.invocations, 2);
  assert.equal(u?.cpuSeconds, 0.003);
  assert.equal(u?.memoryPeakBytes, 3072 * 1024);
});

test('an image’s own server (no watchdog) cannot set its account: its header is ignored, its cgroup shared', (t) => {
  const s = setup(t);
  const r = s.replica(false);
  const a = s.metering.begin('fn', r);
  s.cg.cpu += 4e6;
  a.answered(answer(200, { 'x-berth-usage': 'cpu_us=0 maxrss_kb=0 exit=0' }));
  a.end(200);
  assert.equal(metric(s.registry.render(), 'berth_function_cpu_seconds_total'), 0.004);
});

test('a long-lived server: CPU gained while calls overlap is shared equally, idle CPU billed to none; the peak reset from idle to busy', (t) => {
  const s = setup(t);
  const r = s.replica(false);
  s.cg.cpu = 1e9; // before any call: nobody's
  const a = s.metering.begin('fn', r);
  assert.equal(s.cg.resets, 1, 'idle to busy: the peak starts again');
  s.cg.cpu += 10e6; // a alone: 10 ms
  const b = s.metering.begin('fn', r);
  assert.equal(s.cg.resets, 1, 'already busy: no reset');
  s.cg.cpu += 20e6; // a and b: 10 ms each
  s.cg.peak = 7 * 2 ** 20;
  a.end(200);
  s.cg.cpu += 6e6; // b alone
  b.end(200);
  s.cg.cpu += 50e6; // idle again
  const text = s.registry.render();
  assert.equal(metric(text, 'berth_function_cpu_seconds_count'), 2);
  assert.ok(Math.abs(metric(text, 'berth_function_cpu_seconds_total') - 0.036) < 1e-9, 'all the CPU used while busy (10 + 20 + 6 ms), none of the idle');
  assert.equal(metric(text, 'berth_function_cpu_seconds_bucket', 'function_name="fn.openfaas-fn",le="0.01"'), 0, 'neither call at 10 ms or under');
  assert.equal(metric(text, 'berth_function_cpu_seconds_bucket', 'function_name="fn.openfaas-fn",le="0.05"'), 2, 'a: 10 + 10 ms, b: 10 + 6 ms');
  const [u] = s.usage.query(0);
  assert.ok(u !== undefined && Math.abs(u.cpuSeconds - 0.036) < 1e-6, `${u?.cpuSeconds}`);
  assert.equal(metric(text, 'berth_function_memory_peak_bytes_sum'), 2 * 7 * 2 ** 20);
});

test('GB-seconds: the memory limit times the duration when there is one, else the peak', (t) => {
  const limited = setup(t, { limits: { memory: '128Mi' } });
  const c = limited.metering.begin('fn', limited.replica(true));
  c.answered(answer(200, { 'x-berth-usage': 'cpu_us=1 maxrss_kb=1024 exit=0' }));
  c.end(200);
  const [u] = limited.usage.query(0);
  assert.ok(u !== undefined);
  assert.ok(Math.abs(u.gbSeconds - 0.125 * u.durationSeconds) < 1e-12, `${u.gbSeconds} vs ${u.durationSeconds}`);
  assert.ok(u.durationSeconds >= 0.001, 'at least a millisecond');
  const open = setup(t);
  const d = open.metering.begin('fn', open.replica(true));
  d.answered(answer(200, { 'x-berth-usage': 'cpu_us=1 maxrss_kb=1048576 exit=0' }));
  d.end(200);
  const [v] = open.usage.query(0);
  assert.ok(v !== undefined);
  assert.ok(Math.abs(v.gbSeconds - 1 * v.durationSeconds) < 1e-12, 'a 1 GiB peak');
});

test('an OOM kill during a failed call is named with the limit and counted as such; a success or an unlimited function is not', (t) => {
  const s = setup(t, { limits: { memory: '32Mi' } });
  const r = s.replica(true);
  const a = s.metering.begin('fn', r);
  s.cg.oom++;
  assert.equal(a.killed(200), undefined, 'it answered 200: not a failure');
  assert.equal(a.killed(500), 'function "fn": killed: memory limit 32Mi reached\n');
  a.end(502);
  const b = s.metering.begin('fn', r);
  assert.equal(b.killed(undefined), undefined, 'the counter did not move during this call');
  b.end(502);
  const text = s.registry.render();
  assert.equal(metric(text, 'berth_function_failures_total', 'function_name="fn.openfaas-fn",reason="oom"'), 1);
  assert.equal(metric(text, 'berth_function_failures_total', 'function_name="fn.openfaas-fn",reason="error"'), 1);
  assert.equal(s.usage.query(0)[0]?.failures, 2);
  const u = setup(t);
  const c = u.metering.begin('fn', u.replica(true));
  u.cg.oom++;
  assert.equal(c.killed(500), undefined, 'no limit: not the cgroup’s OOM killer');
});

test('the gateway’s wait follows exec_timeout, and its 504 says so', (t) => {
  const s = setup(t, { envVars: { exec_timeout: '3s' } });
  const c = s.metering.begin('fn', s.replica(false));
  assert.equal(c.limits.timeoutMs, 4000);
  assert.equal(c.timedOut(), 'function "fn": no answer within exec_timeout 3s (the gateway waits 4s)\n');
  c.end(504);
  assert.equal(metric(s.registry.render(), 'berth_function_failures_total', 'function_name="fn.openfaas-fn",reason="timeout"'), 1);
  const d = setup(t).metering.begin('fn', s.replica(false));
  assert.equal(d.timedOut(), 'function "fn": no answer within the gateway\'s upstream timeout of 65s\n');
});

test('a batch of the relay’s calls on a shared replica: the cgroup read once, its CPU divided among the batch’s calls, the reported duration billed, the watchdog’s usage taken only from a watchdog', (t) => {
  const s = setup(t);
  const shared = s.replica(false);
  let reads = 0;
  const cpuNs = s.cg.cpuNs.bind(s.cg);
  s.cg.cpuNs = () => {
    reads++;
    return cpuNs();
  };
  s.cg.peak = 32 * 2 ** 20;
  s.cg.cpu = 1e9;
  // a first batch begins two calls; the server works while they run; the next ends both
  const calls: ReturnType<Metering['begin']>[] = [];
  s.metering.batch(shared, () => calls.push(s.metering.begin('fn', shared), s.metering.begin('fn', shared)), () => undefined);
  assert.equal(reads, 1, 'one read for the batch');
  assert.equal(s.cg.resets, 1, 'the peak reset as the replica went from idle to busy');
  s.cg.cpu += 4e6;
  s.metering.batch(shared, () => undefined, () => {
    for (const c of calls) {
      c.relayed({ cpuUs: 999_000_000, maxRssKb: 1 }, 200); // a replica without the watchdog cannot bill itself
      c.end(200, 2.5);
    }
  });
  assert.equal(reads, 2);
  const text = s.registry.render();
  assert.ok(Math.abs(metric(text, 'berth_function_cpu_seconds_total') - 0.004) < 1e-9, 'the 4 ms the server used, split between the two calls');
  assert.equal(metric(text, 'berth_function_memory_peak_bytes_count'), 2);
  const [sum] = s.usage.query(0);
  assert.equal(sum?.invocations, 2);
  assert.equal(sum?.durationSeconds, 0.006, 'each call billed on the relay’s 2.5 ms, rounded up');

  const wd = s.replica(true);
  const c = s.metering.begin('fn', wd);
  c.relayed({ cpuUs: 1500, maxRssKb: 2048 }, 200);
  c.end(200, 1);
  assert.ok(Math.abs(metric(s.registry.render(), 'berth_function_cpu_seconds_total') - 0.0055) < 1e-9, 'the watchdog’s account of its call');
});
