/**
 * The command line's side of the front (src/runtime/host/front.ts), where
 * it needs no front: wait statuses as the front reports them, and no front
 * without a socket in BERTH_FRONT_FD. The protocol itself is exercised by
 * every berth-runtime command of the integration tests.
 */
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { test } from 'node:test';
import { decodeWaitStatus, Front } from '../../../../src/runtime/host/front.ts';

test('wait statuses decode as ChildProcess reports an exit', () => {
  assert.deepEqual(decodeWaitStatus(0), { code: 0, signal: null });
  assert.deepEqual(decodeWaitStatus(42 << 8), { code: 42, signal: null });
  assert.deepEqual(decodeWaitStatus(255 << 8), { code: 255, signal: null });
  assert.deepEqual(decodeWaitStatus(9), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(decodeWaitStatus(15 | 0x80), { code: null, signal: 'SIGTERM' }, 'a core dump flag changes nothing');
  assert.deepEqual(decodeWaitStatus(undefined), { code: null, signal: null });
});

test('BERTH_FRONT_FD naming no socket means no front', () => {
  // fromEnvironment reads the variable once per process: this is the one call in this file's.
  const fd = openSync('/dev/null', 'r');
  try {
    process.env['BERTH_FRONT_FD'] = String(fd);
    assert.equal(Front.fromEnvironment(), undefined);
    assert.equal(process.env['BERTH_FRONT_FD'], undefined, 'the variable is not passed on');
  } finally {
    closeSync(fd);
    delete process.env['BERTH_FRONT_FD'];
  }
});
