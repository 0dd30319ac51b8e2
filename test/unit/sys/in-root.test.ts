import assert from 'node:assert/strict';
import { closeSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as sys from '../../../src/sys/index.ts';
import { assertSysError, openRoot, tempDir } from './helpers.ts';

test('openInRoot keeps "..", absolute names and symlinks inside the root', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'root/etc'), { recursive: true });
  writeFileSync(join(dir, 'root/etc/passwd'), 'inside\n');
  writeFileSync(join(dir, 'outside'), 'outside\n');
  symlinkSync('/etc/passwd', join(dir, 'root/abs'));
  symlinkSync('../../../../outside', join(dir, 'root/rel'));
  symlinkSync('/proc/self/root/etc/passwd', join(dir, 'root/magic'));
  const root = openRoot(join(dir, 'root'));
  t.after(() => sys.close(root));
  for (const name of ['abs', '../../etc/passwd', '/etc/passwd', 'etc/../../../etc/passwd']) {
    const fd = sys.openInRoot(root, name, sys.O_RDONLY);
    assert.equal(readFileSync(fd, 'utf8'), 'inside\n', name);
    closeSync(fd);
  }
  assertSysError(() => sys.openInRoot(root, 'rel', sys.O_RDONLY), 'ENOENT', 'openat2', 'rel');
  // /proc/self/root inside the root is the root's own /proc (none here), never the host's.
  assertSysError(() => sys.openInRoot(root, 'magic', sys.O_RDONLY), 'ENOENT', 'openat2', 'magic');
});

test('pathInRoot says where the kernel resolved a path, relative to the root', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'root/usr/bin'), { recursive: true });
  mkdirSync(join(dir, 'elsewhere'));
  symlinkSync('/usr/bin', join(dir, 'root/bin'));
  const root = openRoot(join(dir, 'root'));
  t.after(() => sys.close(root));
  const bin = sys.openInRoot(root, 'bin', sys.O_PATH);
  const self = sys.openInRoot(root, '..', sys.O_PATH);
  const out = openRoot(join(dir, 'elsewhere'));
  t.after(() => [bin, self, out].forEach((fd) => sys.close(fd)));
  assert.equal(sys.pathInRoot(root, bin), 'usr/bin');
  assert.equal(sys.pathInRoot(root, self), '');
  assert.equal(sys.pathInRoot(root, out), undefined);
  // A sibling whose name starts like the root is not inside it.
  mkdirSync(join(dir, 'root2'));
  const sibling = openRoot(join(dir, 'root2'));
  t.after(() => sys.close(sibling));
  assert.equal(sys.pathInRoot(root, sibling), undefined);
});
