import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import * as sys from '../../../../src/sys/index.ts';
import { ImageStore } from '../../../../src/image/store/store.ts';
import { TarReader, Rootfs, unpackLayer, type TarEntry } from '../../../../src/image/unpack/index.ts';
import { overlayDiff } from '../../../../src/image/build/layer/overlay-diff.ts';
import { treeDiff } from '../../../../src/image/build/layer/tree-diff.ts';
import { writeLayer } from '../../../../src/image/build/layer/write.ts';
import type { DiffItem } from '../../../../src/image/build/layer/diff.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-layer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Seen {
  path: string;
  type: string;
  mode: number;
  uid: number;
  size: number;
  mtime: number;
  linkname: string;
  xattrs: Record<string, string>;
  data: string;
}

/** Reads a gzipped layer blob back with berth's own tar reader. */
function readLayer(blob: Buffer): Seen[] {
  const out: Seen[] = [];
  let current: Seen | undefined;
  const reader = new TarReader(
    {
      entry(e: TarEntry) {
        current = {
          path: e.path,
          type: e.type,
          mode: e.mode,
          uid: e.uid,
          size: e.size,
          mtime: e.mtime.sec,
          linkname: e.linkname,
          xattrs: Object.fromEntries([...(e.xattrs ?? [])].map(([k, v]) => [k, v.toString('latin1')])),
          data: '',
        };
        out.push(current);
      },
      data(chunk: Buffer) {
        if (current) current.data += chunk.toString('latin1');
      },
      entryEnd() {
        current = undefined;
      },
    },
    'test',
  );
  reader.push(gunzipSync(blob));
  reader.end();
  return out;
}

async function layerOf(t: TestContext, items: () => Iterable<DiffItem>, root: string): Promise<{ blob: Buffer; diffId: string; digest: string; entries: Seen[] } | undefined> {
  const store = await ImageStore.open({ root: join(tempDir(t), 'store') });
  t.after(() => store.close());
  const fd = sys.openat(sys.AT_FDCWD, root, sys.O_RDONLY | sys.O_DIRECTORY);
  try {
    const written = await writeLayer(store, items(), fd);
    if (written === undefined) return undefined;
    const blob = await store.content.readBlobBytes(written.digest);
    assert.equal(written.diffId, `sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`, 'the diffID is the digest of the uncompressed tar');
    return { blob, diffId: written.diffId, digest: written.digest, entries: readLayer(blob) };
  } finally {
    sys.close(fd);
  }
}

function withFd<T>(path: string, fn: (fd: number) => T): T {
  const fd = sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY);
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

test('overlay upper → OCI layer: 0:0 devices become .wh. files, opaque dirs get .wh..wh..opq, links and xattrs kept, sorted', async (t) => {
  const upper = join(tempDir(t), 'upper');
  mkdirSync(join(upper, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(join(upper, 'etc', 'b.conf'), 'b\n');
  writeFileSync(join(upper, 'etc', 'a.conf'), 'a\n');
  linkSync(join(upper, 'etc', 'a.conf'), join(upper, 'etc', 'z-link'));
  symlinkSync('a.conf', join(upper, 'etc', 'alias'));
  sys.mknodat(sys.AT_FDCWD, join(upper, 'etc', 'gone'), sys.S_IFCHR, 0, 0);
  mkdirSync(join(upper, 'opaque'));
  writeFileSync(join(upper, 'opaque', 'only'), 'new\n');
  withFd(join(upper, 'opaque'), (fd) => sys.fsetxattr(fd, 'user.overlay.opaque', Buffer.from('y')));
  withFd(join(upper, 'etc', 'conf.d'), (fd) => sys.fsetxattr(fd, 'user.overlay.impure', Buffer.from('y')));
  sys.lsetxattr(join(upper, 'etc', 'b.conf'), 'user.note', Buffer.from([0, 1, 2, 0xff]));
  utimesSync(join(upper, 'etc', 'a.conf'), 1_600_000_000, 1_600_000_000);

  const layer = await layerOf(t, () => withFd(upper, (fd) => [...overlayDiff(fd)]), upper);
  assert.ok(layer);
  assert.deepEqual(
    layer.entries.map((e) => [e.path, e.type]),
    [
      ['etc', 'dir'],
      ['etc/a.conf', 'file'],
      ['etc/alias', 'symlink'],
      ['etc/b.conf', 'file'],
      ['etc/conf.d', 'dir'],
      ['etc/.wh.gone', 'file'],
      ['etc/z-link', 'hardlink'],
      ['opaque', 'dir'],
      ['opaque/.wh..wh..opq', 'file'],
      ['opaque/only', 'file'],
    ],
  );
  const byPath = new Map(layer.entries.map((e) => [e.path, e]));
  assert.equal(byPath.get('etc/a.conf')?.data, 'a\n');
  assert.equal(byPath.get('etc/a.conf')?.mtime, 1_600_000_000);
  assert.equal(byPath.get('etc/alias')?.linkname, 'a.conf');
  assert.equal(byPath.get('etc/z-link')?.linkname, 'etc/a.conf');
  assert.deepEqual(byPath.get('etc/b.conf')?.xattrs, { 'user.note': '\x00\x01\x02\xff' }, 'binary xattr values survive byte for byte');
  assert.deepEqual(byPath.get('etc/conf.d')?.xattrs, {}, "overlay's own xattrs are not layer content");
  assert.deepEqual(byPath.get('opaque')?.xattrs, {});
  assert.equal(byPath.get('etc/.wh.gone')?.size, 0);
});

test('the same tree gives the same layer digest every time', async (t) => {
  const dir = join(tempDir(t), 'tree');
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'b', 'f'), 'x'.repeat(100_000));
  writeFileSync(join(dir, 'a', 'g'), 'g');
  const one = await layerOf(t, () => withFd(dir, (fd) => [...overlayDiff(fd)]), dir);
  const two = await layerOf(t, () => withFd(dir, (fd) => [...overlayDiff(fd)]), dir);
  assert.equal(one?.digest, two?.digest);
  assert.equal(one?.entries.find((e) => e.path === 'a/b/f')?.data.length, 100_000);
});

test('an empty diff writes no layer', async (t) => {
  const dir = join(tempDir(t), 'empty');
  mkdirSync(dir);
  assert.equal(await layerOf(t, () => withFd(dir, (fd) => [...overlayDiff(fd)]), dir), undefined);
});

/** Applies a layer blob onto a copy of `lower` with berth's unpacker and returns the result's root. */
async function applyOnto(t: TestContext, lower: string, blob: Buffer, diffId: string): Promise<string> {
  const out = join(tempDir(t), 'applied');
  cpSync(lower, out, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  using root = Rootfs.open(out);
  const { Readable } = await import('node:stream');
  await unpackLayer(root, { digest: 'sha256:test', diffId }, Readable.from([blob]), { whiteouts: 'apply' });
  return out;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const key = prefix + name;
      if (st.isDirectory()) {
        out[`${key}/`] = (st.mode & 0o7777).toString(8);
        walk(p, `${key}/`);
      } else if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(p)}`;
      else out[key] = `${(st.mode & 0o7777).toString(8)} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir, '');
  return out;
}

test('tree diff (copying snapshotter): the layer turns the lower tree into the upper one, whiteouts for what went', async (t) => {
  const base = tempDir(t);
  const lower = join(base, 'lower');
  mkdirSync(join(lower, 'keep', 'deep'), { recursive: true });
  mkdirSync(join(lower, 'gone-dir', 'sub'), { recursive: true });
  writeFileSync(join(lower, 'keep', 'same'), 'same');
  writeFileSync(join(lower, 'keep', 'deep', 'changed'), 'old');
  writeFileSync(join(lower, 'keep', 'removed'), 'r');
  writeFileSync(join(lower, 'gone-dir', 'sub', 'x'), 'x');
  writeFileSync(join(lower, 'file-to-dir'), 'f');
  symlinkSync('same', join(lower, 'keep', 'link'));
  const upper = join(base, 'upper');
  cpSync(lower, upper, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  writeFileSync(join(upper, 'keep', 'deep', 'changed'), 'new content');
  rmSync(join(upper, 'keep', 'removed'));
  rmSync(join(upper, 'gone-dir'), { recursive: true });
  rmSync(join(upper, 'file-to-dir'));
  mkdirSync(join(upper, 'file-to-dir'));
  writeFileSync(join(upper, 'file-to-dir', 'inside'), 'i');
  rmSync(join(upper, 'keep', 'link'));
  symlinkSync('deep/changed', join(upper, 'keep', 'link'));
  writeFileSync(join(upper, 'added'), 'a');
  linkSync(join(upper, 'keep', 'same'), join(upper, 'keep', 'same-linked'));

  const items = (): DiffItem[] => withFd(lower, (l) => withFd(upper, (u) => treeDiff(l, u)));
  const layer = await layerOf(t, items, upper);
  assert.ok(layer);
  const names = layer.entries.map((e) => e.path);
  assert.ok(names.includes('.wh.gone-dir'));
  assert.ok(names.includes('keep/.wh.removed'));
  assert.ok(!names.includes('gone-dir/sub/x'), 'nothing below a removed directory');
  assert.ok(names.includes('keep'), 'the parent of a change is listed, as an overlay upper dir holds it');
  assert.ok(!names.includes('keep/deep/../same'));
  assert.equal(layer.entries.find((e) => e.path === 'keep/same-linked')?.type, 'hardlink', 'a new link to an unchanged file');
  const applied = await applyOnto(t, lower, layer.blob, layer.diffId);
  assert.deepEqual(snapshot(applied), snapshot(upper));
});

test('tree diff with no lower: everything is added; no change: nothing', (t) => {
  const base = tempDir(t);
  const tree = join(base, 'tree');
  mkdirSync(join(tree, 'd'), { recursive: true });
  writeFileSync(join(tree, 'd', 'f'), 'f');
  const all = withFd(tree, (u) => treeDiff(undefined, u));
  assert.deepEqual(all.map((i) => i.header.name), ['d/', 'd/f']);
  const copy = join(base, 'copy');
  cpSync(tree, copy, { recursive: true, preserveTimestamps: true });
  for (const p of ['d', 'd/f']) {
    // Exact to the nanosecond (Node's utimes rounds), as a snapshot copy keeps them.
    const st = sys.statx(sys.AT_FDCWD, join(tree, p), sys.AT_SYMLINK_NOFOLLOW);
    sys.utimensat(sys.AT_FDCWD, join(copy, p), st.atime, st.mtime);
  }
  assert.deepEqual(withFd(tree, (l) => withFd(copy, (u) => treeDiff(l, u))), []);
});
