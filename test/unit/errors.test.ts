import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError, describeError, exitCodeFor, invalidArgument, isBerthError, notFound } from '../../src/errors.ts';

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
  assert.ok(!isBerthError(err, 'other'));
});

test('invalid arguments exit with 2, other failures with 1', () => {
  assert.equal(exitCodeFor(invalidArgument('bad_flag', 'flag --x: unknown')), 2);
  assert.equal(exitCodeFor(notFound('x', 'x')), 1);
  assert.equal(exitCodeFor(new Error('plain')), 1);
});
