/**
 * Descriptors passed at start (systemd's socket activation, berthd's own
 * sleep): read only when LISTEN_PID names this process, named, taken out
 * of the environment; and berthd's --sleep-after.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Inherited } from '../../../src/api/activation.ts';
import { sleepAfterOption } from '../../../src/cli/berthd/serve.ts';

test('LISTEN_* for this pid: descriptors from 3 by name, the variables removed', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '3', LISTEN_PID: '42', LISTEN_FDNAMES: 'api:cli:lock', OTHER: 'x' };
  const got = Inherited.fromEnv(env, 42);
  assert.deepEqual(env, { OTHER: 'x' });
  assert.equal(got.take('api'), 3);
  assert.equal(got.take('cli'), 4);
  assert.equal(got.has('lock'), true);
  assert.equal(got.take('api'), undefined, 'taken once');
  assert.equal(got.take('gateway'), undefined);
});

test('LISTEN_* of another pid, or no count, pass nothing (and are removed all the same)', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '7' };
  assert.equal(Inherited.fromEnv(env, 42).has('api'), false);
  assert.deepEqual(env, {});
  assert.equal(Inherited.fromEnv({ LISTEN_PID: '42' }, 42).has('api'), false);
  assert.equal(Inherited.fromEnv({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42).has('api'), false);
});

test('one socket without a name (systemd names it after its unit) is the API\'s', () => {
  assert.equal(Inherited.fromEnv({ LISTEN_FDS: '1', LISTEN_PID: '42' }, 42).take('api'), 3);
  assert.equal(Inherited.fromEnv({ LISTEN_FDS: '1', LISTEN_PID: '42', LISTEN_FDNAMES: 'berthd' }, 42).take('api'), 3);
});

test('--sleep-after: Go durations, 0 and never (0 ms); else BERTH_SLEEP_AFTER; nonsense and less than 100ms refused naming the flag', () => {
  assert.equal(sleepAfterOption('60s', {}), 60_000);
  assert.equal(sleepAfterOption('1m30s', {}), 90_000);
  assert.equal(sleepAfterOption('0', {}), 0);
  assert.equal(sleepAfterOption('never', {}), 0);
  assert.equal(sleepAfterOption(undefined, {}), undefined);
  assert.equal(sleepAfterOption(undefined, { BERTH_SLEEP_AFTER: '5m' }), 300_000);
  assert.equal(sleepAfterOption('2s', { BERTH_SLEEP_AFTER: '5m' }), 2000, 'the flag first');
  assert.throws(() => sleepAfterOption('5x', {}), /--sleep-after "5x": not a duration/);
  assert.throws(() => sleepAfterOption('50ms', {}), /100ms or more/);
  assert.throws(() => sleepAfterOption('-1s', {}), /not a duration/);
});
