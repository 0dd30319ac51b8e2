/**
 * Health checks (src/engine/health) probing busybox containers through
 * exec sessions: a passing check turns the container healthy, a failing
 * one unhealthy after Retries failures in a row, a slow one is killed at
 * its timeout, and the state is in the engine database, so it survives
 * reopening it. Root only.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { HealthMonitor, type HealthEvent } from '../../../src/engine/health/monitor.ts';
import { ContainerStore } from '../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { HealthStore, type HealthState } from '../../../src/engine/store/health.ts';
import { runningContainer, type RunningContainer } from '../../helpers/exec-container.ts';
import { monitorPids } from '../../helpers/monitors.ts';
import { onCleanup, tempDir, waitFor } from '../../helpers/runtime.ts';

const MS = 1e6;

interface Setup {
  r: RunningContainer;
  db: DatabaseSync;
  dbPath: string;
  monitor: HealthMonitor;
  events: { action: HealthEvent; state: HealthState | undefined }[];
}

/** A running container with a record in a fresh engine database, and a health monitor over both. */
async function setup(t: TestContext, name: string): Promise<Setup> {
  const r = await runningContainer(t, name);
  const dbPath = join(tempDir(t), 'berth.db');
  const db = openEngineDatabase(dbPath);
  onCleanup(t, () => db.isOpen && db.close());
  const containers = new ContainerStore(db);
  containers.beginCreate({ id: r.ctx.id, name, imageRef: 'busybox', imageId: `sha256:${'a'.repeat(64)}`, options: {} });
  containers.finishCreate(r.ctx.id);
  const store = new HealthStore(db);
  const events: Setup['events'] = [];
  const monitor = new HealthMonitor({ store, execs: r.execs, onEvent: (id, action) => events.push({ action, state: id === r.ctx.id ? store.get(id) : undefined }) });
  onCleanup(t, () => monitor.close());
  return { r, db, dbPath, monitor, events };
}

function statusIs(s: Setup, status: string): () => HealthState | undefined {
  return () => {
    const state = s.monitor.state(s.r.ctx.id);
    return state?.Status === status ? state : undefined;
  };
}

test('a check that passes turns the container healthy', async (t) => {
  const s = await setup(t, 'passes');
  await s.monitor.start({ container: s.r.ctx, healthcheck: { Test: ['CMD', 'sh', '-c', 'echo ok; id -u'], Interval: 100 * MS }, startedAt: new Date() });
  assert.equal(s.monitor.state(s.r.ctx.id)?.Status, 'starting', 'starting until the first probe');
  const healthy = await waitFor('healthy', statusIs(s, 'healthy'), 30_000);
  assert.equal(healthy.FailingStreak, 0);
  assert.equal(healthy.Log[0]?.ExitCode, 0);
  assert.equal(healthy.Log[0]?.Output, 'ok\n0\n', 'the output of the probe, run as the container\'s user');
  assert.ok(Date.parse(healthy.Log[0].End) >= Date.parse(healthy.Log[0].Start));
  assert.deepEqual(s.events.map((e) => e.action), ['health_status: healthy']);
});

test('a failing check turns it unhealthy after Retries failures in a row, and the state survives reopening the database', async (t) => {
  const s = await setup(t, 'fails');
  await s.monitor.start({ container: s.r.ctx, healthcheck: { Test: ['CMD-SHELL', 'echo "not ready" >&2; exit 1'], Interval: 100 * MS, Retries: 2 }, startedAt: new Date() });
  await waitFor('unhealthy', statusIs(s, 'unhealthy'), 30_000);
  await s.monitor.stop(s.r.ctx.id);
  const first = s.events[0];
  assert.equal(first?.action, 'health_status: unhealthy');
  assert.equal(first.state?.FailingStreak, 2, 'unhealthy at the second failure, not before');
  assert.deepEqual(first.state.Log.map((p) => [p.ExitCode, p.Output]), [[1, 'not ready\n'], [1, 'not ready\n']]);
  const before = s.monitor.state(s.r.ctx.id);
  s.db.close();
  const again = openEngineDatabase(s.dbPath);
  onCleanup(t, () => again.close());
  assert.deepEqual(new HealthStore(again).get(s.r.ctx.id), before, 'the same state after reopening');
  // A restart of the container: starting again, the streak cleared, the log kept (dockerd's rule).
  const monitor = new HealthMonitor({ store: new HealthStore(again), execs: s.r.execs });
  onCleanup(t, () => monitor.close());
  await monitor.start({ container: s.r.ctx, healthcheck: { Test: ['CMD', 'true'], Interval: 60e9 }, startedAt: new Date() });
  const restarted = monitor.state(s.r.ctx.id);
  assert.equal(restarted?.Status, 'starting');
  assert.equal(restarted.FailingStreak, 0);
  assert.deepEqual(restarted.Log, before?.Log);
});

test('a check slower than its timeout is killed and counts as a failure', async (t) => {
  const s = await setup(t, 'slow');
  await s.monitor.start({ container: s.r.ctx, healthcheck: { Test: ['CMD-SHELL', 'echo begun; exec sleep 1000'], Interval: 100 * MS, Timeout: 300 * MS, Retries: 1 }, startedAt: new Date() });
  const unhealthy = await waitFor('unhealthy', statusIs(s, 'unhealthy'), 30_000);
  assert.equal(unhealthy.Log[0]?.ExitCode, -1);
  assert.equal(unhealthy.Log[0]?.Output, 'Health check exceeded timeout (300ms): begun\n');
  await s.monitor.stop(s.r.ctx.id);
  // Each probe's monitor exits with its process: only the container's own is left.
  await waitFor('the probes\' monitors to exit', () => (monitorPids().length <= 1 ? true : undefined));
});

test('stopping the checks with the container kills the probe in flight', async (t) => {
  const s = await setup(t, 'stopped');
  await s.monitor.start({ container: s.r.ctx, healthcheck: { Test: ['CMD', 'sleep', '1000'], Interval: 50 * MS, Timeout: 600e9 }, startedAt: new Date() });
  await waitFor('a probe to run', () => (monitorPids().length >= 2 ? true : undefined));
  await s.monitor.stop(s.r.ctx.id);
  await waitFor('the probe\'s monitor to exit', () => (monitorPids().length <= 1 ? true : undefined));
  assert.equal(s.monitor.state(s.r.ctx.id)?.Status, 'starting', 'an aborted probe records nothing');
  assert.deepEqual(s.monitor.state(s.r.ctx.id)?.Log, []);
});

test('no monitor is left after the tests', async () => {
  await waitFor('every monitor to exit', () => (monitorPids().length === 0 ? true : undefined));
});
