import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, lstatSync, openSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sys from '../../../src/sys/index.ts';
import { assertSysError, tempDir } from './helpers.ts';

function openRoot(dir: string): number {
  return sys.openat(sys.AT_FDCWD, dir, sys.O_DIRECTORY | sys.O_RDONLY);
}

test('utimensat sets nanosecond times by path, by fd and on a symlink itself; statx reads them back', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), 'abc');
  symlinkSync('f', join(dir, 'l'));
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  sys.utimensat(root, 'f', { sec: 1000, nsec: 5 }, { sec: 2000, nsec: 123456789 });
  let st = sys.statx(root, 'f', sys.AT_SYMLINK_NOFOLLOW);
  assert.deepEqual(st.mtime, { sec: 2000, nsec: 123456789 });
  assert.deepEqual(st.atime, { sec: 1000, nsec: 5 });
  assert.equal(st.size, 3);
  assert.equal(st.mode & sys.S_IFMT, sys.S_IFREG);
  assert.equal(st.ino, BigInt(statSync(join(dir, 'f')).ino));

  // Before the epoch and past 2038 (both halves of the 64-bit seconds).
  sys.utimensat(root, 'f', { sec: -2, nsec: 750_000_000 }, { sec: 2 ** 33 + 3, nsec: 1 });
  st = sys.statx(root, 'f', 0);
  assert.deepEqual(st.atime, { sec: -2, nsec: 750_000_000 });
  assert.deepEqual(st.mtime, { sec: 2 ** 33 + 3, nsec: 1 });
  sys.utimensat(root, 'f', { sec: 1000, nsec: 5 }, undefined);

  // undefined leaves a time unchanged.
  sys.utimensat(root, 'f', undefined, { sec: 3000, nsec: 0 });
  st = sys.statx(root, 'f', 0);
  assert.deepEqual(st.atime, { sec: 1000, nsec: 5 });
  assert.deepEqual(st.mtime, { sec: 3000, nsec: 0 });

  sys.utimensat(root, 'l', { sec: 7, nsec: 0 }, { sec: 8, nsec: 0 }, sys.AT_SYMLINK_NOFOLLOW);
  assert.equal(lstatSync(join(dir, 'l')).mtimeMs, 8000);
  assert.equal(statSync(join(dir, 'f')).mtimeMs, 3_000_000);

  const fd = openSync(join(dir, 'f'), 'r');
  sys.utimensat(fd, null, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 });
  closeSync(fd);
  assert.equal(statSync(join(dir, 'f')).mtimeMs, 2000);

  assertSysError(() => sys.utimensat(root, 'missing', undefined, { sec: 1, nsec: 0 }), 'ENOENT', 'utimensat', 'missing');
  assertSysError(() => sys.statx(root, 'missing', 0), 'ENOENT', 'statx', 'missing');
  assertSysError(() => sys.utimensat(-1, null, undefined, { sec: 1, nsec: 0 }), 'EBADF', 'futimens');
  assertSysError(() => sys.statx(-1, '', sys.AT_EMPTY_PATH), 'EBADF', 'statx', '');
});

test('fchmodat, fchmod, fchownat and fchown report errno', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), '');
  symlinkSync('f', join(dir, 'l'));
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  sys.fchmodat(root, 'f', 0o4751, 0);
  assert.equal(statSync(join(dir, 'f')).mode & 0o7777, 0o4751);
  assertSysError(() => sys.fchmodat(root, 'missing', 0o644, 0), 'ENOENT', 'fchmodat', 'missing');
  assertSysError(() => sys.fchmodat(root, 'l', 0o644, sys.AT_SYMLINK_NOFOLLOW), 'ENOTSUP', 'fchmodat', 'l');
  assertSysError(() => sys.fchmod(-1, 0o644), 'EBADF', 'fchmod');

  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  sys.fchownat(root, 'l', uid, gid, sys.AT_SYMLINK_NOFOLLOW);
  assertSysError(() => sys.fchownat(root, 'missing', uid, gid, 0), 'ENOENT', 'fchownat', 'missing');
  assertSysError(() => sys.fchown(-1, uid, gid), 'EBADF', 'fchown');
  const fd = sys.openat(root, 'f', sys.O_RDONLY);
  sys.fchown(fd, uid, gid);
  const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
  assert.equal(st.uid, uid);
  sys.close(fd);
});

test('isMountRoot: / and /proc are mount roots; a directory, a file and a symlink to a mount root are not; a missing path is ENOENT', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'x');
  symlinkSync('/proc', join(dir, 'to-proc'));
  // Kernels before 5.8 do not say (undefined): the callers then read mountinfo.
  const supported = sys.isMountRoot('/') !== undefined;
  if (!supported) return t.skip('statx has no STATX_ATTR_MOUNT_ROOT on this kernel');
  assert.equal(sys.isMountRoot('/'), true);
  assert.equal(sys.isMountRoot('/proc'), true);
  assert.equal(sys.isMountRoot(dir), false);
  assert.equal(sys.isMountRoot(join(dir, 'file')), false);
  assert.equal(sys.isMountRoot(join(dir, 'to-proc')), false, 'the link itself, not what it points to');
  assertSysError(() => sys.isMountRoot(join(dir, 'missing')), 'ENOENT', 'statx', join(dir, 'missing'));
});
