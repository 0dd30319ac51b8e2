import assert from 'node:assert/strict';
import { isBerthError } from '../../../../src/errors.ts';

/** Asserts fn throws the BerthError `code` with a message matching `message` (which names the flag and value). */
export function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err), `not a BerthError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}
