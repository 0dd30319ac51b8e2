import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conflict, flagError } from '../../../../src/engine/spec/flag-error.ts';

test('a flag error names the flag and the value, in the message and the details', () => {
  const cause = new Error('inner');
  const err = flagError('--memory', '64x', 'not a size', cause);
  assert.equal(err.code, 'run_flag_invalid');
  assert.equal(err.kind, 'invalid_argument');
  assert.equal(err.message, '--memory "64x": not a size');
  assert.deepEqual(err.details, { flag: '--memory', value: '64x' });
  assert.equal(err.cause, cause);
  const c = conflict('--rm', '--restart');
  assert.equal(c.code, 'run_flags_conflict');
  assert.equal(c.message, 'conflicting options: --rm and --restart');
});
