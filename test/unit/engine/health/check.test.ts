import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { applyProbe, cappedOutput, goDuration, healthSettings, nextInterval, type HealthSettings } from '../../../../src/engine/health/check.ts';
import type { HealthProbe, HealthState } from '../../../../src/engine/store/health.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const probe = (exitCode: number, atMs: number): HealthProbe => ({ Start: new Date(T0 + atMs).toISOString(), End: new Date(T0 + atMs + 5).toISOString(), ExitCode: exitCode, Output: `code ${exitCode}` });
const starting: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };

function settings(extra: Parameters<typeof healthSettings>[0] = {}): HealthSettings {
  const s = healthSettings({ Test: ['CMD', 'true'], ...extra });
  assert.ok(s);
  return s;
}

test('docker\'s defaults: interval and timeout 30s, no start period, 5s start interval, 3 retries', () => {
  assert.deepEqual(settings(), { command: ['true'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3, timeoutText: '30s' });
  assert.deepEqual(settings({ Interval: 0, Timeout: 0, Retries: 0 }).retries, 3, 'zero means the default');
  const s = settings({ Interval: 1.5e9, Timeout: 250e6, StartPeriod: 90e9, Retries: 7 });
  assert.deepEqual([s.intervalMs, s.timeoutMs, s.startPeriodMs, s.retries, s.timeoutText], [1500, 250, 90_000, 7, '250ms']);
});

test('the command: CMD runs its arguments, CMD-SHELL a shell line, NONE or nothing runs none', () => {
  assert.deepEqual(healthSettings({ Test: ['CMD', 'curl', '-f', 'x'] })?.command, ['curl', '-f', 'x']);
  assert.deepEqual(healthSettings({ Test: ['CMD-SHELL', 'curl -f x || exit 1'] })?.command, ['/bin/sh', '-c', 'curl -f x || exit 1']);
  assert.equal(healthSettings({ Test: ['NONE'] }), undefined);
  assert.equal(healthSettings({ Test: [] }), undefined);
  assert.equal(healthSettings(undefined), undefined);
  for (const bad of [{ Test: ['SHELL', 'x'] }, { Test: ['CMD'] }, { Test: ['CMD', 'x'], Interval: -1 }, { Test: ['CMD', 'x'], Retries: 1.5 }]) {
    assert.throws(() => healthSettings(bad), (err: Error) => isBerthError(err, 'health_check_invalid') && err.message.startsWith('health check '));
  }
});

test('durations are spelled as Go spells them', () => {
  assert.deepEqual([300e6, 1e9, 1.5e9, 90e9, 3600e9, 1500, 0].map(goDuration), ['300ms', '1s', '1.5s', '1m30s', '1h0m0s', '1.5µs', '0s']);
});

test('a pass makes it healthy and clears the streak; Retries failures in a row make it unhealthy', () => {
  const s = settings({ Retries: 2 });
  let state = applyProbe(s, starting, probe(1, 100), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['starting', 1]);
  state = applyProbe(s, state, probe(0, 200), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['healthy', 0]);
  state = applyProbe(s, state, probe(1, 300), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['healthy', 1], 'one failure keeps it healthy');
  state = applyProbe(s, state, probe(2, 400), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['unhealthy', 2], 'any non-zero code fails');
  state = applyProbe(s, state, probe(0, 500), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['healthy', 0]);
});

test('failures inside the start period do not count while starting', () => {
  const s = settings({ StartPeriod: 10e9, Retries: 1 });
  let state = applyProbe(s, starting, probe(1, 5000), T0);
  assert.deepEqual([state.Status, state.FailingStreak, state.Log.length], ['starting', 0, 1]);
  state = applyProbe(s, state, probe(1, 11_000), T0);
  assert.deepEqual([state.Status, state.FailingStreak], ['unhealthy', 1]);
  // Once healthy, a failure inside the period counts.
  const healthy = applyProbe(s, starting, probe(0, 1000), T0);
  assert.equal(applyProbe(s, healthy, probe(1, 2000), T0).Status, 'unhealthy');
});

test('the log keeps the last 5 probes, oldest first', () => {
  const s = settings();
  let state = starting;
  for (let i = 0; i < 7; i++) state = applyProbe(s, state, probe(0, i * 100), T0);
  assert.deepEqual(state.Log.map((p) => p.Start), [200, 300, 400, 500, 600].map((ms) => new Date(T0 + ms).toISOString()));
});

test('the wait before the next probe: the start interval while starting in the period, never past its end', () => {
  const s = settings({ Interval: 30e9, StartPeriod: 60e9, StartInterval: 2e9 });
  assert.equal(nextInterval(s, starting, T0, T0), 2000);
  assert.equal(nextInterval(s, { ...starting, Status: 'healthy' }, T0, T0), 30_000);
  assert.equal(nextInterval(s, { ...starting, Status: 'healthy' }, T0, T0 + 50_000), 10_000, 'the period ends first');
  assert.equal(nextInterval(s, starting, T0, T0 + 61_000), 30_000);
});

test('output is capped at 4096 bytes, with "..." when cut', () => {
  assert.equal(cappedOutput([Buffer.from('a'.repeat(4000)), Buffer.from('b'.repeat(96))]), 'a'.repeat(4000) + 'b'.repeat(96));
  assert.equal(cappedOutput([Buffer.from('a'.repeat(4000)), Buffer.from('b'.repeat(97))]), 'a'.repeat(4000) + 'b'.repeat(96) + '...');
});
