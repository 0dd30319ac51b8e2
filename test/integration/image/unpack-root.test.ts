/**
 * Root-only: real trees with owners, device nodes, trusted.* and
 * security.* xattrs and overlay whiteouts, as umoci writes them as root.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tarOf } from '../../unit/image/unpack/fixtures/tar-writer.ts';
import { readTree } from '../../unit/image/unpack/fixtures/tree.ts';
import { tempDir, unpackInto } from '../../unit/image/unpack/helpers.ts';
import * as sys from '../../../src/sys/index.ts';

// Integration tests run as root (./run-tests): no skip that could let them pass unrun.
describe('unpack as root', () => {
  test('owners, setuid after chown, fifos, and devices when asked for', async (t) => {
    const dir = tempDir(t);
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: 'home', type: 'dir', uid: 1000, gid: 1000, mode: 0o750 },
        { name: 'home/f', data: 'x', uid: 1000, gid: 100 },
        { name: 'bin/passwd', data: 'suid', uid: 0, gid: 42, mode: 0o4755 },
        { name: 'bin/wall', data: 'sgid', uid: 7, gid: 5, mode: 0o2755 },
        { name: 'home/link', type: 'symlink', linkname: 'f', uid: 1000, gid: 1001 },
        { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'dev/loop0', type: 'block', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
        { name: 'dev/big', type: 'char', devmajor: 300, devminor: 70000, mode: 0o600 },
        { name: 'run/fifo', type: 'fifo', mode: 0o640, uid: 33, gid: 33 },
      ]),
    ], { devices: 'create' });
    const tree = readTree(rootfs);
    assert.deepEqual([tree.get('home')?.uid, tree.get('home')?.gid, tree.get('home')?.mode], [1000, 1000, 0o750]);
    assert.deepEqual([tree.get('home/f')?.uid, tree.get('home/f')?.gid], [1000, 100]);
    assert.deepEqual([tree.get('bin/passwd')?.gid, tree.get('bin/passwd')?.mode], [42, 0o4755]);
    assert.deepEqual([tree.get('bin/wall')?.uid, tree.get('bin/wall')?.gid, tree.get('bin/wall')?.mode], [7, 5, 0o2755]);
    assert.deepEqual([tree.get('home/link')?.uid, tree.get('home/link')?.gid], [1000, 1001]);
    assert.equal(tree.get('dev/null')?.type, 'char');
    assert.equal(tree.get('dev/null')?.rdev, '1:3');
    assert.equal(tree.get('dev/null')?.mode, 0o666);
    assert.equal(tree.get('dev/loop0')?.type, 'block');
    assert.equal(tree.get('dev/loop0')?.rdev, '7:0');
    assert.equal(tree.get('dev/loop0')?.gid, 6);
    const big = lstatSync(join(rootfs, 'dev/big'));
    // glibc's major()/minor() of the kernel's encoding
    const rdev = BigInt(big.rdev);
    assert.equal(Number(((rdev >> 32n) & 0xfffff000n) | ((rdev >> 8n) & 0xfffn)), 300);
    assert.equal(Number(((rdev >> 12n) & 0xffffff00n) | (rdev & 0xffn)), 70000);
    assert.deepEqual([tree.get('run/fifo')?.type, tree.get('run/fifo')?.uid, tree.get('run/fifo')?.mode], ['fifo', 33, 0o640]);
  });

  test('a file in a setgid directory takes the group of its entry, a subdirectory keeps the mode of its entry', async (t) => {
    const dir = tempDir(t);
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: 'shared', type: 'dir', mode: 0o2775, gid: 50 },
        { name: 'shared/f', data: 'x', gid: 0 },
        { name: 'shared/sub', type: 'dir', mode: 0o755, gid: 0 },
      ]),
    ]);
    assert.equal(statSync(join(rootfs, 'shared/f')).gid, 0);
    assert.equal(statSync(join(rootfs, 'shared/sub')).gid, 0);
    assert.equal(statSync(join(rootfs, 'shared/sub')).mode & 0o7777, 0o755);
  });

  test('trusted.*, user.* and security.capability xattrs, on files, directories and symlinks', async (t) => {
    const dir = tempDir(t);
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: 'd', type: 'dir', xattrs: { 'trusted.dir': 'td', 'user.dir': 'ud' } },
        { name: 'd/ping', data: 'elf', mode: 0o755, xattrs: { 'security.capability': cap, 'trusted.bin': Buffer.from([0, 255]) } },
        { name: 'd/l', type: 'symlink', linkname: 'ping', xattrs: { 'trusted.link': 'tl' } },
      ]),
    ]);
    const tree = readTree(rootfs, { ignoreXattrs: ['security.selinux'] });
    assert.deepEqual(tree.get('d')?.xattrs, { 'trusted.dir': Buffer.from('td').toString('hex'), 'user.dir': Buffer.from('ud').toString('hex') });
    assert.deepEqual(tree.get('d/ping')?.xattrs, { 'security.capability': cap.toString('hex'), 'trusted.bin': '00ff' });
    assert.deepEqual(tree.get('d/l')?.xattrs, { 'trusted.link': Buffer.from('tl').toString('hex') });
  });

  test('overlay whiteout mode writes 0:0 character devices and the opaque xattr', async (t) => {
    const dir = tempDir(t);
    const { rootfs } = await unpackInto(
      dir,
      [tarOf([{ name: 'etc', type: 'dir' }, { name: 'etc/.wh.motd' }, { name: 'opq', type: 'dir' }, { name: 'opq/.wh..wh..opq' }, { name: 'opq/new', data: 'n' }])],
      { whiteouts: 'overlay' },
    );
    const wh = lstatSync(join(rootfs, 'etc/motd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.deepEqual(sys.lgetxattr(join(rootfs, 'opq'), 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.deepEqual(readdirSync(join(rootfs, 'opq')), ['new']);
  });

  test('hostile device nodes (a world-writable /dev/sda, /dev/mem) become empty files without permissions by default, even as root', async (t) => {
    const dir = tempDir(t);
    const { rootfs, results } = await unpackInto(dir, [
      tarOf([
        { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 },
        { name: 'dev/mem', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 },
      ]),
    ]);
    for (const name of ['dev/sda', 'dev/mem']) {
      const st = lstatSync(join(rootfs, name));
      assert.ok(st.isFile(), `${name} is a plain file`);
      assert.equal(st.mode & 0o7777, 0);
      assert.equal(st.size, 0);
    }
    assert.match(results[0]?.warnings.join('\n') ?? '', /device nodes became empty files without permissions, first "dev\/sda" \(block 8:0\)/);
  });
});
