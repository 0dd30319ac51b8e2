import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { parseDeployment } from '../../../src/faas/deployment.ts';
import { backoffMs, DEFAULT_RETRY, retryAfterMs, retryPolicyOf } from '../../../src/faas/queue/retry.ts';

test("retry annotations: OpenFaaS's names, defaults where absent", () => {
  assert.deepEqual(retryPolicyOf({}), DEFAULT_RETRY);
  const p = retryPolicyOf({ 'com.openfaas.retry.attempts': '30', 'com.openfaas.retry.codes': '429, 503', 'com.openfaas.retry.min_wait': '5s', 'com.openfaas.retry.max_wait': '1m' });
  assert.equal(p.attempts, 30);
  assert.deepEqual([...p.codes], [429, 503]);
  assert.equal(p.minWaitMs, 5000);
  assert.equal(p.maxWaitMs, 60_000);
  assert.equal(retryPolicyOf({ 'com.openfaas.retry.min_wait': '0s', 'com.openfaas.retry.max_wait': '0s' }).maxWaitMs, 0);
});

test('a bad retry annotation is refused at deploy, naming it', () => {
  const cases: [Record<string, string>, string][] = [
    [{ 'com.openfaas.retry.attempts': 'many' }, 'com.openfaas.retry.attempts'],
    [{ 'com.openfaas.retry.attempts': '0' }, 'com.openfaas.retry.attempts'],
    [{ 'com.openfaas.retry.codes': '429,abc' }, 'com.openfaas.retry.codes'],
    [{ 'com.openfaas.retry.codes': '600' }, 'com.openfaas.retry.codes'],
    [{ 'com.openfaas.retry.min_wait': 'soon' }, 'com.openfaas.retry.min_wait'],
    [{ 'com.openfaas.retry.min_wait': '2m', 'com.openfaas.retry.max_wait': '1m' }, 'com.openfaas.retry.max_wait'],
    // Below the default max_wait of 2m is fine; above it without a max_wait is not.
    [{ 'com.openfaas.retry.min_wait': '5m' }, 'com.openfaas.retry.min_wait'],
  ];
  for (const [annotations, name] of cases) {
    assert.throws(
      () => parseDeployment({ service: 'fn', image: 'img:1', annotations }),
      (err: unknown) => isBerthError(err, 'faas_deployment_invalid') && err.message.includes(`annotations.${name}:`),
      JSON.stringify(annotations),
    );
  }
});

test('back-off: doubles from min_wait, jittered ±25 %, always within [min_wait, max_wait]', () => {
  const p = { ...DEFAULT_RETRY, minWaitMs: 100, maxWaitMs: 1000 };
  const mid = (): number => 0.5;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffMs(p, n, mid)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffMs(p, 2, () => 0), 150);
  assert.equal(backoffMs(p, 2, () => 0.999999), 250);
  assert.equal(backoffMs(p, 1, () => 0), 100, 'never below min_wait');
  for (let n = 1; n < 2000; n += 37) {
    for (const r of [0, 0.3, 0.999]) {
      const ms = backoffMs(p, n, () => r);
      assert.ok(ms >= 100 && ms <= 1000, `${n} ${r}: ${ms}`);
    }
  }
  const spread = new Set(Array.from({ length: 50 }, () => backoffMs(p, 3)));
  assert.ok(spread.size > 1, 'calls that failed together come back apart');
});

test('Retry-After (seconds) is honoured within the bounds; an HTTP-date is not', () => {
  const p = { ...DEFAULT_RETRY, minWaitMs: 1000, maxWaitMs: 10_000 };
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs('Fri, 10 Apr 2026 09:47:00 GMT'), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
  assert.equal(backoffMs(p, 1, Math.random, 3000), 3000);
  assert.equal(backoffMs(p, 1, Math.random, 0), 1000);
  assert.equal(backoffMs(p, 1, Math.random, 60_000), 10_000);
});
