/**
 * `berth fn usage`'s parts without a gateway: the answer checked (it comes
 * over the network), the table, --since refused naming the flag before
 * anything is sent, a gateway that is not there named; the limits a
 * describe shows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkUsageReport, fetchUsage, renderUsage } from '../../../src/cli/berth/commands/fn/usage.ts';
import { isBerthError } from '../../../src/errors.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { limitsOf, watchdogDurationMs } from '../../../src/faas/limits.ts';

const report = {
  since: '2026-12-07T08:00:00.000Z',
  until: '2026-12-07T09:00:00.000Z',
  memoryBasis: 'GB-seconds: the memory limit (the peak of each call when the function has none) times the duration, 1 GB = 2^30 bytes',
  functions: [
    { name: 'resize', namespace: 'openfaas-fn', invocations: 120, failures: 2, durationSeconds: 31.5, cpuSeconds: 12.25, gbSeconds: 3.9375, memoryPeakBytes: 52_428_800 },
    { name: 'hello', namespace: 'openfaas-fn', invocations: 3, failures: 0, durationSeconds: 0.012, cpuSeconds: 0.004, gbSeconds: 0, memoryPeakBytes: 0 },
  ],
};

test('the table: a row per function with invocations, failures, duration, CPU-seconds, GB-seconds, peak; the basis said', () => {
  const text = renderUsage(checkUsageReport(report));
  const lines = text.split('\n');
  assert.match(lines[0] ?? '', /^FUNCTION\s+INVOCATIONS\s+FAILURES\s+DURATION \(s\)\s+CPU-SECONDS\s+GB-SECONDS\s+PEAK MEMORY$/);
  assert.match(lines[1] ?? '', /^resize\s+120\s+2\s+31\.500\s+12\.250\s+3\.937500\s+50MiB$/);
  assert.match(lines[2] ?? '', /^hello\s+3\s+0\s+0\.012\s+0\.004\s+0\.000000\s+-$/);
  assert.match(text, /since 2026-12-07T08:00:00.000Z; GB-seconds: the memory limit/);
});

test('an answer that is not a usage report is refused', () => {
  for (const bad of [null, [], { since: 'x' }, { ...report, functions: [{ name: 'x' }] }, { ...report, functions: [{ ...report.functions[0], cpuSeconds: '1' }] }]) {
    assert.throws(() => checkUsageReport(bad), (err: unknown) => isBerthError(err, 'faas_usage_failed'), JSON.stringify(bad));
  }
});

test('--since is checked before anything is sent; an unreachable gateway is named', async () => {
  await assert.rejects(fetchUsage('http://127.0.0.1:1', 'Basic x', 'last tuesday'), (err: unknown) => isBerthError(err, 'invalid_flag') && err.message.startsWith('--since "last tuesday"'));
  await assert.rejects(fetchUsage('http://127.0.0.1:1', 'Basic x', '1h'), (err: unknown) => isBerthError(err, 'faas_usage_failed') && err.message.includes('http://127.0.0.1:1'));
});

test('limits: memory and CPU as enforced, the watchdog’s timeouts (defaulted), the gateway’s wait', () => {
  const l = limitsOf(parseDeployment({ service: 'f', image: 'i', limits: { memory: '64M', cpu: '250m' }, envVars: { exec_timeout: '1m30s', read_timeout: '5' } }));
  assert.deepEqual(l, {
    memory: '64M', memoryBytes: 64e6, cpu: '250m', cpus: 0.25,
    timeouts: { exec_timeout: '1m30s', read_timeout: '5', write_timeout: '10s', upstream_timeout: '91s' },
    upstreamTimeoutMs: 91_000,
  });
  assert.equal(limitsOf(parseDeployment({ service: 'f', image: 'i' })).upstreamTimeoutMs, 65_000);
  assert.equal(limitsOf(parseDeployment({ service: 'f', image: 'i', envVars: { exec_timeout: '0' } })).upstreamTimeoutMs, 65_000, '0: no exec_timeout');
  assert.equal(watchdogDurationMs('250ms'), 250);
  assert.equal(watchdogDurationMs('soon'), undefined);
});
