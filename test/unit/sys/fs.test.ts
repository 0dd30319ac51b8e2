import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as sys from '../../../src/sys/index.ts';
import { assertSysError, openRoot, tempDir } from './helpers.ts';

const IN_ROOT = sys.IN_ROOT;

test('openat2 reports errno for each resolve rule', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'd'));
  symlinkSync('d', join(dir, 'link'));
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  assertSysError(() => sys.openat2(root, 'missing', { flags: sys.O_RDONLY, resolve: IN_ROOT }), 'ENOENT', 'openat2', 'missing');
  assertSysError(() => sys.openat2(root, 'link', { flags: sys.O_RDONLY, resolve: sys.RESOLVE_NO_SYMLINKS }), 'ELOOP', 'openat2', 'link');
  assertSysError(() => sys.openat2(root, '../x', { flags: sys.O_RDONLY, resolve: sys.RESOLVE_BENEATH }), 'EXDEV', 'openat2', '../x');
  assertSysError(() => sys.openat2(root, 'd', { flags: sys.O_RDONLY, mode: 0o644, resolve: 0 }), 'EINVAL', 'openat2', 'd');
});

test('openat creates exclusively and never follows a final symlink with O_NOFOLLOW', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'target'), 'x');
  symlinkSync('target', join(dir, 'link'));
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  const fd = sys.openat(root, 'new', sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW, 0o600);
  closeSync(fd);
  assert.equal(statSync(join(dir, 'new')).mode & 0o7777, 0o600 & ~process.umask());
  assertSysError(() => sys.openat(root, 'new', sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL, 0o600), 'EEXIST', 'openat', 'new');
  assertSysError(() => sys.openat(root, 'link', sys.O_RDONLY | sys.O_NOFOLLOW), 'ELOOP', 'openat', 'link');
});

test('close and listdirfd report EBADF', () => {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  assertSysError(() => sys.close(fd), 'EBADF', 'close');
  assertSysError(() => sys.listdirfd(fd), 'EBADF', 'readdir', `fd ${fd}`);
});

test('a NUL inside a path is refused before the call', (t) => {
  const dir = tempDir(t);
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  assertSysError(() => sys.mkdirat(root, 'a\0/../../x', 0o755), 'EINVAL', 'mkdirat');
  assertSysError(() => sys.mkdirat(root, Buffer.from('a\0b'), 0o755), 'EINVAL', 'mkdirat', 'a');
  // Raw bytes (not UTF-8) pass through unchanged.
  sys.mkdirat(root, Buffer.from([0x62, 0xe9, 0x64]), 0o755);
  const names = sys.listdirfd(root).map((b) => b.toString('hex'));
  assert.deepEqual(names, ['62e964']);
});

test('mkdirat, mknodat, symlinkat, linkat, unlinkat, renameat2 and readlinkat report errno', (t) => {
  const dir = tempDir(t);
  const root = openRoot(dir);
  t.after(() => sys.close(root));
  sys.mkdirat(root, 'd', 0o755);
  assertSysError(() => sys.mkdirat(root, 'd', 0o755), 'EEXIST', 'mkdirat', 'd');

  sys.mknodat(root, 'fifo', sys.S_IFIFO | 0o644);
  assert.ok(lstatSync(join(dir, 'fifo')).isFIFO());
  assertSysError(() => sys.mknodat(root, 'fifo', sys.S_IFIFO | 0o644), 'EEXIST', 'mknodat', 'fifo');

  sys.symlinkat('/nowhere', root, 'sl');
  assert.equal(readlinkSync(join(dir, 'sl')), '/nowhere');
  assert.equal(sys.readlinkat(root, 'sl').toString(), '/nowhere');
  const long = 'x'.repeat(1000);
  sys.symlinkat(long, root, 'long');
  assert.equal(sys.readlinkat(root, 'long').toString(), long);
  const e = assertSysError(() => sys.symlinkat('/else', root, 'sl'), 'EEXIST', 'symlinkat', 'sl');
  assert.equal(e.dest, '/else');
  assertSysError(() => sys.readlinkat(root, 'd'), 'EINVAL', 'readlinkat', 'd');

  // A hard link to a symlink links the symlink itself.
  sys.linkat(root, 'sl', root, 'sl2');
  assert.ok(lstatSync(join(dir, 'sl2')).isSymbolicLink());
  assertSysError(() => sys.linkat(root, 'missing', root, 'x'), 'ENOENT', 'linkat', 'x');

  assertSysError(() => sys.unlinkat(root, 'missing'), 'ENOENT', 'unlinkat', 'missing');
  writeFileSync(join(dir, 'd/f'), '');
  assertSysError(() => sys.unlinkat(root, 'd', sys.AT_REMOVEDIR), 'ENOTEMPTY', 'unlinkat', 'd');
  assertSysError(() => sys.unlinkat(root, 'd'), 'EISDIR', 'unlinkat', 'd');

  const r = assertSysError(() => sys.renameat2(root, 'sl', root, 'fifo', sys.RENAME_NOREPLACE), 'EEXIST', 'renameat2', 'sl');
  assert.equal(r.dest, 'fifo');
  sys.renameat2(root, 'sl', root, 'fifo', sys.RENAME_EXCHANGE);
  assert.ok(lstatSync(join(dir, 'fifo')).isSymbolicLink());
  assert.ok(lstatSync(join(dir, 'sl')).isFIFO());
});

test('makedev encodes major and minor as glibc does', () => {
  assert.equal(sys.makedev(1, 3), 0x103n);
  assert.equal(sys.makedev(259, 65536), 0x10010300n);
  assert.equal(sys.makedev(4096, 0), 0x1000n << 32n);
});
