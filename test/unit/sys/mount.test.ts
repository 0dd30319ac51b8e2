import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as sys from '../../../src/sys/index.ts';
import { assertSysError, tempDir } from './helpers.ts';

test('mount and umount2 report errno with the target', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing');
  const e = assertSysError(() => sys.mount(join(dir, 'nosrc'), missing, null, sys.MS_BIND, null), 'ENOENT', 'mount', missing);
  assert.equal(e.dest, join(dir, 'nosrc'));
  // Not a mount point (EINVAL as root, EPERM without the capability).
  let code = '';
  try {
    sys.umount2(dir);
  } catch (err) {
    assert.ok(err instanceof sys.SystemError);
    assert.equal(err.syscall, 'umount2');
    assert.equal(err.path, dir);
    code = err.code;
  }
  assert.ok(code === 'EINVAL' || code === 'EPERM', code);
});
