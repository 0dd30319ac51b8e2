import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sys from '../../../src/sys/index.ts';
import { assertSysError, tempDir } from './helpers.ts';

test('xattrs round-trip binary values by fd and by path; absent names read as undefined', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), '');
  const fd = sys.openat(sys.AT_FDCWD, join(dir, 'f'), sys.O_RDONLY);
  t.after(() => sys.close(fd));
  const value = Buffer.from([0, 1, 2, 0xff, 0xfe, 0]);
  sys.fsetxattr(fd, 'user.bin', value);
  sys.lsetxattr(join(dir, 'f'), 'user.empty', Buffer.alloc(0));
  assert.deepEqual(sys.fgetxattr(fd, 'user.bin'), value);
  assert.deepEqual(sys.lgetxattr(join(dir, 'f'), 'user.bin'), value);
  assert.deepEqual(sys.lgetxattr(join(dir, 'f'), 'user.empty'), Buffer.alloc(0));
  assert.equal(sys.fgetxattr(fd, 'user.none'), undefined);
  assert.deepEqual(sys.flistxattr(fd).sort(), ['user.bin', 'user.empty']);
  assert.deepEqual(sys.llistxattr(join(dir, 'f')).sort(), ['user.bin', 'user.empty']);

  sys.fremovexattr(fd, 'user.empty');
  assert.deepEqual(sys.flistxattr(fd), ['user.bin']);
  assertSysError(() => sys.fremovexattr(fd, 'user.empty'), 'ENODATA', 'fremovexattr', 'user.empty');
  assertSysError(() => sys.fsetxattr(fd, 'user.bin', value, sys.XATTR_CREATE), 'EEXIST', 'fsetxattr', 'user.bin');
  assertSysError(() => sys.fsetxattr(fd, 'nonamespace', value), 'ENOTSUP', 'fsetxattr', 'nonamespace');
  assertSysError(() => sys.fsetxattr(-1, 'user.x', value), 'EBADF', 'fsetxattr', 'user.x');
  assertSysError(() => sys.lsetxattr(join(dir, 'missing'), 'user.x', value), 'ENOENT', 'lsetxattr', join(dir, 'missing'));
  assertSysError(() => sys.lgetxattr(join(dir, 'missing'), 'user.x'), 'ENOENT', 'lgetxattr', join(dir, 'missing'));
  assertSysError(() => sys.fgetxattr(-1, 'user.x'), 'EBADF', 'fgetxattr', 'user.x');
  assertSysError(() => sys.flistxattr(-1), 'EBADF', 'flistxattr');
  assertSysError(() => sys.llistxattr(join(dir, 'missing')), 'ENOENT', 'llistxattr', join(dir, 'missing'));
});
