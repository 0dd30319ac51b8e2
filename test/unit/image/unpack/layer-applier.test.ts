import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tarOf } from './fixtures/tar-writer.ts';
import { readTree } from './fixtures/tree.ts';
import { tempDir, unpackInto, isRoot } from './helpers.ts';

const T0 = 1_600_000_000;

test('files, directories, symlinks, hard links and fifos land with their modes, content and times', async (t) => {
  const dir = tempDir(t);
  const { rootfs, results } = await unpackInto(dir, [
    tarOf([
      { name: 'bin', type: 'dir', mode: 0o755, mtime: T0 },
      { name: 'bin/su', data: 'setuid', mode: 0o4755, mtime: T0 + 1 },
      { name: 'bin/sg', data: 'setgid', mode: 0o2711, mtime: T0 + 2 },
      { name: 'tmp', type: 'dir', mode: 0o1777, mtime: T0 + 3 },
      { name: 'etc', type: 'dir', mode: 0o700, mtime: T0 + 4 },
      { name: 'etc/conf', data: 'a=1\n', mode: 0o600, mtime: { sec: T0 + 5, nsec: 250_000_000 }, atime: T0 - 100 },
      { name: 'etc/hard', type: 'hardlink', linkname: 'etc/conf' },
      { name: 'etc/link', type: 'symlink', linkname: '/etc/conf', mtime: T0 + 6 },
      { name: 'etc/dangling', type: 'symlink', linkname: '../nowhere' },
      { name: 'etc/pipe', type: 'fifo', mode: 0o620, mtime: T0 + 7 },
      { name: 'empty', data: '', mode: isRoot ? 0o000 : 0o400 }, // a non-root reader could not hash mode 0
    ]),
  ]);
  assert.equal(results.length, 1);
  assert.equal(results[0]?.entries, 11);
  // Times first: reading a file moves its atime (relatime).
  const conf = lstatSync(join(rootfs, 'etc/conf'), { bigint: true });
  assert.equal(conf.mtimeNs, BigInt(T0 + 5) * 1_000_000_000n + 250_000_000n);
  assert.equal(conf.atimeNs, BigInt(T0 - 100) * 1_000_000_000n);
  const su = lstatSync(join(rootfs, 'bin/su'));
  assert.equal(su.atimeMs, su.mtimeMs);
  const tree = readTree(rootfs);
  assert.equal(tree.get('bin/su')?.mode, 0o4755);
  assert.equal(tree.get('bin/sg')?.mode, 0o2711);
  assert.equal(tree.get('tmp')?.mode, 0o1777);
  assert.equal(tree.get('etc')?.mode, 0o700);
  assert.equal(tree.get('empty')?.mode, isRoot ? 0 : 0o400);
  assert.equal(tree.get('empty')?.size, 0);
  assert.equal(readFileSync(join(rootfs, 'etc/conf'), 'utf8'), 'a=1\n');
  assert.equal(tree.get('etc/conf')?.linkGroup, 'etc/conf');
  assert.equal(tree.get('etc/hard')?.linkGroup, 'etc/conf');
  assert.equal(readlinkSync(join(rootfs, 'etc/link')), '/etc/conf');
  assert.equal(readlinkSync(join(rootfs, 'etc/dangling')), '../nowhere');
  assert.equal(tree.get('etc/pipe')?.type, 'fifo');
  assert.equal(tree.get('etc/pipe')?.mode, 0o620);
  // atime defaults to mtime; directories keep their times after children were added.
  assert.equal(lstatSync(join(rootfs, 'etc/link')).mtimeMs, (T0 + 6) * 1000);
  assert.equal(lstatSync(join(rootfs, 'etc/pipe')).mtimeMs, (T0 + 7) * 1000);
  assert.equal(statSync(join(rootfs, 'bin')).mtimeMs, T0 * 1000);
  assert.equal(statSync(join(rootfs, 'etc')).mtimeMs, (T0 + 4) * 1000);
});

test('gzip, zstd and uncompressed layers unpack alike; the diff_id is reported', async (t) => {
  const tar = tarOf([{ name: 'a', data: 'x'.repeat(100_000) }, { name: 'd', type: 'dir' }, { name: 'd/b', data: 'b' }]);
  const trees = [];
  for (const how of ['gzip', 'zstd', 'none'] as const) {
    const dir = tempDir(t);
    const { rootfs, results } = await unpackInto(dir, [tar], {}, how);
    assert.match(results[0]?.diffId ?? '', /^sha256:/);
    const tree = readTree(rootfs);
    tree.delete('.'); // the root's times are those of its mkdir
    trees.push(tree);
  }
  assert.deepEqual(trees[1], trees[0]);
  assert.deepEqual(trees[2], trees[0]);
});

test('a later layer replaces files by directories and back, and keeps an existing directory\'s children', async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [
    tarOf([
      { name: 'f2d', data: 'file' },
      { name: 'd2f', type: 'dir' },
      { name: 'd2f/child', data: 'c' },
      { name: 'l2f', type: 'symlink', linkname: 'f2d' },
      { name: 'keep', type: 'dir', mode: 0o755 },
      { name: 'keep/old', data: 'old' },
      { name: 'over', data: 'v1' },
      { name: 'over2', type: 'hardlink', linkname: 'over' },
    ]),
    tarOf([
      { name: 'f2d', type: 'dir', mode: 0o711 },
      { name: 'f2d/new', data: 'n' },
      { name: 'd2f', data: 'now a file' },
      { name: 'l2f', data: 'now a file too' },
      { name: 'keep', type: 'dir', mode: 0o750 },
      { name: 'keep/new', data: 'new' },
      { name: 'over', data: 'v2' },
    ]),
  ]);
  assert.ok(statSync(join(rootfs, 'f2d')).isDirectory());
  assert.equal(statSync(join(rootfs, 'f2d')).mode & 0o7777, 0o711);
  assert.equal(readFileSync(join(rootfs, 'd2f'), 'utf8'), 'now a file');
  assert.ok(lstatSync(join(rootfs, 'l2f')).isFile());
  assert.deepEqual(readdirSync(join(rootfs, 'keep')).sort(), ['new', 'old']);
  assert.equal(statSync(join(rootfs, 'keep')).mode & 0o7777, 0o750);
  // Replacing a hard-linked name breaks the link instead of writing through it.
  assert.equal(readFileSync(join(rootfs, 'over'), 'utf8'), 'v2');
  assert.equal(readFileSync(join(rootfs, 'over2'), 'utf8'), 'v1');
});

test('whiteouts remove lower files and trees; the layer\'s own files stay', async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [
    tarOf([
      { name: 'gone', data: 'x' },
      { name: 'tree', type: 'dir' },
      { name: 'tree/a', type: 'dir' },
      { name: 'tree/a/b', data: 'b' },
      { name: 'link', type: 'symlink', linkname: 'tree' },
      { name: 'stay', data: 's' },
    ]),
    tarOf([
      { name: '.wh.gone' },
      { name: '.wh.tree' },
      { name: '.wh.link' },
      { name: '.wh.missing' },
      { name: 'new', data: 'n' },
      // A whiteout never hides what its own layer wrote.
      { name: '.wh.new' },
      { name: '.wh..wh.plnk', type: 'dir' },
    ]),
  ]);
  assert.deepEqual(readdirSync(rootfs).sort(), ['new', 'stay']);
});

test('an opaque whiteout empties the lower directory but keeps what the layer adds, before or after it', async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [
    tarOf([
      { name: 'd', type: 'dir' },
      { name: 'd/lower1', data: '1' },
      { name: 'd/sub', type: 'dir' },
      { name: 'd/sub/lower2', data: '2' },
      { name: 'd/sub/kept-dir', type: 'dir' },
      { name: 'other', data: 'o' },
    ]),
    tarOf([
      { name: 'd', type: 'dir' },
      { name: 'd/sub', type: 'dir' },
      { name: 'd/sub/upper-before', data: 'u' },
      { name: 'd/.wh..wh..opq' },
      { name: 'd/upper-after', data: 'a' },
    ]),
  ]);
  assert.deepEqual(readdirSync(join(rootfs, 'd')).sort(), ['sub', 'upper-after']);
  assert.deepEqual(readdirSync(join(rootfs, 'd/sub')).sort(), ['upper-before']);
  assert.ok(existsSync(join(rootfs, 'other')));
});

test('a lower directory keeps its times when a layer adds to it without an entry of its own', async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [
    tarOf([{ name: 'usr', type: 'dir', mtime: T0 }, { name: 'usr/a', data: 'a' }]),
    tarOf([{ name: 'usr/b', data: 'b' }, { name: '.wh.missing' }, { name: 'usr/.wh.a' }]),
  ]);
  assert.deepEqual(readdirSync(join(rootfs, 'usr')), ['b']);
  assert.equal(statSync(join(rootfs, 'usr')).mtimeMs, T0 * 1000);
});

test('parents missing from the archive are created; "./" prefixes and the root entry are handled', async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [
    tarOf([
      { name: './', type: 'dir', mode: 0o750, mtime: T0 },
      { name: './deep/er/file', data: 'f' },
      { name: '/abs', data: 'absolute names are taken as relative to the root' },
    ]),
  ]);
  assert.equal(readFileSync(join(rootfs, 'deep/er/file'), 'utf8'), 'f');
  assert.ok(existsSync(join(rootfs, 'abs')));
  assert.equal(statSync(rootfs).mode & 0o7777, 0o750);
  assert.equal(statSync(rootfs).mtimeMs, T0 * 1000);
});

test('user.* xattrs are set on files, directories and (as root) symlinks', async (t) => {
  const dir = tempDir(t);
  const bin = Buffer.from([0, 1, 2, 255]);
  const { rootfs, results } = await unpackInto(dir, [
    tarOf([
      { name: 'd', type: 'dir', xattrs: { 'user.dir': 'yes' } },
      { name: 'd/f', data: 'x', xattrs: { 'user.bin': bin, 'user.text': 'hello' } },
      { name: 'p', type: 'fifo', xattrs: { 'user.fifo': 'f' } },
    ]),
  ]);
  const tree = readTree(rootfs, { ignoreXattrs: ['security.selinux'] });
  assert.deepEqual(tree.get('d')?.xattrs, { 'user.dir': Buffer.from('yes').toString('hex') });
  assert.deepEqual(tree.get('d/f')?.xattrs, { 'user.bin': bin.toString('hex'), 'user.text': Buffer.from('hello').toString('hex') });
  // user.* xattrs are not allowed on fifos: a warning, not a failure.
  assert.equal(tree.get('p')?.xattrs, undefined);
  assert.match(results[0]?.warnings.join('\n') ?? '', /xattr "user.fifo" not set \(EPERM\), first on "p"/);
});

test('ownership is left to the process when chown is off', { skip: !isRoot && 'needs root to see a difference' }, async (t) => {
  const dir = tempDir(t);
  const { rootfs } = await unpackInto(dir, [tarOf([{ name: 'f', data: 'x', uid: 1234, gid: 5678 }])], { chown: false });
  assert.equal(statSync(join(rootfs, 'f')).uid, process.geteuid?.());
});
