import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { formatPlatform, hostPlatform, parsePlatform, selectManifest } from '../../../../src/image/registry/platform.ts';
import { isRetryableStatus, isTransient, withRetry } from '../../../../src/image/registry/retry.ts';
import { unavailable } from '../../../../src/errors.ts';

const d = (os: string, architecture: string, variant?: string): { mediaType: string; digest: string; size: number; platform: { os: string; architecture: string; variant?: string } } => ({
  mediaType: 'm',
  digest: `sha256:${(os + architecture + (variant ?? '')).padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a')}`,
  size: 1,
  platform: variant === undefined ? { os, architecture } : { os, architecture, variant },
});

test('platforms parse and print as os/arch[/variant]', () => {
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(formatPlatform(parsePlatform('linux/amd64')), 'linux/amd64');
  for (const bad of ['linux', 'linux/', '/amd64', 'a/b/c/d', 'linux/arm/']) {
    assert.throws(() => parsePlatform(bad), (err) => isBerthError(err, 'invalid_platform'), bad);
  }
  assert.equal(hostPlatform().os, 'linux');
});

test('manifest selection prefers the exact variant and treats arm64 without variant as v8', () => {
  const list = [d('linux', 'amd64'), d('linux', 'arm', 'v6'), d('linux', 'arm', 'v7'), d('linux', 'arm64'), d('windows', 'amd64')];
  assert.equal(selectManifest(list, parsePlatform('linux/amd64'), 'x'), list[0]);
  assert.equal(selectManifest(list, parsePlatform('linux/arm/v7'), 'x'), list[2]);
  assert.equal(selectManifest(list, parsePlatform('linux/arm64/v8'), 'x'), list[3]);
  assert.throws(() => selectManifest(list, parsePlatform('linux/s390x'), 'index y'), (err) => isBerthError(err, 'platform_not_found') && /index y.*linux\/s390x.*offers linux\/amd64/.test(err.message));
});

test('retries only what a retry can fix, with back-off', async () => {
  assert.ok(isRetryableStatus(503) && isRetryableStatus(429) && !isRetryableStatus(404) && !isRetryableStatus(501));
  assert.ok(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' })));
  assert.ok(!isTransient(new Error('plain')));
  let calls = 0;
  const waits: number[] = [];
  const value = await withRetry(
    (attempt) => {
      calls++;
      if (attempt < 3) throw unavailable('registry_error', 'flaky', { details: { transient: true } });
      return Promise.resolve('ok');
    },
    { baseDelayMs: 1, onRetry: (_a, _e, delay) => waits.push(delay) },
  );
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
  assert.equal(waits.length, 2);
  calls = 0;
  await assert.rejects(withRetry(() => { calls++; return Promise.reject(new Error('fatal')); }, { baseDelayMs: 1 }), /fatal/);
  assert.equal(calls, 1);
});
