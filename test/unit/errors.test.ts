import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { BerthError, cleanupAfter, cleanupAfterSync, cleanupErrorsOf, describeError, isBerthError, notFound, withCleanupError } from '../../src/errors.ts';

test('errors carry a stable code and kind, and chain causes', () => {
  const cause = new Error('ENOENT: no such file');
  const err = notFound('container_not_found', 'container "web": not found', { cause, details: { id: 'web' } });
  assert.ok(err instanceof BerthError);
  assert.equal(err.code, 'container_not_found');
  assert.equal(err.kind, 'not_found');
  assert.equal(err.cause, cause);
  assert.deepEqual(err.details, { id: 'web' });
  assert.equal(describeError(err), 'container "web": not found: ENOENT: no such file');
  assert.ok(isBerthError(err, 'container_not_found'));
  assert.ok(!isBerthError(err, 'image_not_found'));
});

test('describeError adds a cause only when the text does not already hold it', () => {
  const inner = new Error('pattern "[": unterminated');
  const outer = new Error('Containerfile:3: COPY: pattern "[": unterminated', { cause: inner });
  assert.equal(describeError(outer), 'Containerfile:3: COPY: pattern "[": unterminated');
  assert.equal(describeError('plain text'), 'plain text');
  assert.equal(describeError({ errno: 2 }), '{"errno":2}');
  assert.equal(describeError(new Error('a', { cause: new Error('b', { cause: 'c' }) })), 'a: b: c');
});

test('a failed cleanup is reported beside the error it followed, which travels on unchanged', async () => {
  const original = notFound('container_not_found', 'container "web": not found');
  await cleanupAfter(original, () => {
    throw new Error('EBUSY: rmdir /sys/fs/cgroup/web');
  });
  cleanupAfterSync(original, () => {
    throw new Error('EINVAL: umount rootfs');
  });
  cleanupAfterSync(original, () => {});
  assert.equal(original.code, 'container_not_found');
  assert.equal(cleanupErrorsOf(original).length, 2);
  assert.equal(
    describeError(original),
    'container "web": not found; cleanup also failed: EBUSY: rmdir /sys/fs/cgroup/web; cleanup also failed: EINVAL: umount rootfs',
  );
});

test('cleanup failures of a cause are reported with the error that wraps it', () => {
  const cause = withCleanupError(new Error('write failed'), new Error('unlink temp file: EACCES'));
  const err = new Error('state.json: save', { cause });
  assert.equal(describeError(err), 'state.json: save: write failed; cleanup also failed: unlink temp file: EACCES');
  assert.deepEqual(cleanupErrorsOf('not an object'), []);
});

test('describeError names each error an AggregateError holds', () => {
  const err = new AggregateError([new Error('rmdir /a: EBUSY'), new Error('rmdir /b: EBUSY')], '2 directories left');
  assert.equal(describeError(err), '2 directories left (rmdir /a: EBUSY; rmdir /b: EBUSY)');
});

test('no error text is built by hand beside describeError, which would drop the causes', () => {
  const src = join(import.meta.dirname, '../../src');
  const handRolled = /instanceof Error \? \w+\.message : String\(/;
  const found = readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => handRolled.test(readFileSync(file, 'utf8')))
    .map((file) => relative(src, file));
  assert.deepEqual(found, []);
});
