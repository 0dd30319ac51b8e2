import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseKey, BuildCache, cacheKey } from '../../../../src/image/build/cache.ts';

const parts = { parent: 'sha256:p', text: '/bin/sh -c make', args: new Map<string, string | undefined>([['V', '1']]), platform: 'linux/amd64' };

test('the cache key changes with the parent, the text, the ARG values, the inputs and the platform, and only with them', () => {
  const k = cacheKey(parts);
  assert.match(k, /^sha256:[0-9a-f]{64}$/);
  assert.equal(cacheKey({ ...parts, args: new Map([['V', '1']]) }), k, 'equal parts, equal key');
  assert.equal(cacheKey({ ...parts, args: new Map([['V', '1'], ['DECLARED', undefined]]) }), k, 'an ARG without a value does not count');
  const variants = [
    { ...parts, parent: 'sha256:q' },
    { ...parts, text: '/bin/sh -c make install' },
    { ...parts, args: new Map([['V', '2']]) },
    { ...parts, args: new Map([['V', '1'], ['W', '']]) },
    { ...parts, inputs: 'sha256:abc' },
    { ...parts, platform: 'linux/arm64' },
  ];
  const keys = new Set(variants.map((v) => cacheKey(v)));
  assert.equal(keys.size, variants.length);
  assert.ok(!keys.has(k));
  assert.equal(cacheKey({ ...parts, args: new Map([['B', '2'], ['A', '1']]) }), cacheKey({ ...parts, args: new Map([['A', '1'], ['B', '2']]) }), 'ARG order does not matter');
  assert.notEqual(baseKey('scratch', 'linux/amd64'), baseKey({ imageId: 'sha256:x' }, 'linux/amd64'));
  assert.notEqual(baseKey({ imageId: 'sha256:x' }, 'linux/amd64'), baseKey({ stageKey: 'sha256:x' }, 'linux/amd64'));
});

test('entries round-trip through the database, with and without a layer, and survive reopening', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'cache.db');
  const c = new BuildCache(path);
  const layer = { digest: 'sha256:l', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 12, diffId: 'sha256:d' };
  c.put('k1', { created: '2024-01-01T00:00:00Z', layer });
  c.put('k2', { created: '2024-01-02T00:00:00Z', layer: undefined });
  assert.equal(c.get('missing'), undefined);
  c.close();
  const again = new BuildCache(path);
  t.after(() => again.close());
  assert.deepEqual(again.get('k1'), { created: '2024-01-01T00:00:00Z', layer });
  assert.deepEqual(again.get('k2'), { created: '2024-01-02T00:00:00Z', layer: undefined });
  again.put('k1', { created: '2024-02-02T00:00:00Z', layer: undefined });
  assert.deepEqual(again.get('k1'), { created: '2024-02-02T00:00:00Z', layer: undefined }, 'a later result replaces an earlier one');
});
