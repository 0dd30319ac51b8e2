/**
 * Hostile layers: each test builds the archive an advisory describes and
 * checks that nothing is written outside the root, and that what is refused
 * is refused with an error naming the layer and the entry.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { encodeEntry, header, tarOf, TAR_END } from './fixtures/tar-writer.ts';
import { assertUnpackError, layersOf, tempDir, unpackInto } from './helpers.ts';
import { unpackLayers } from '../../../../src/image/unpack/index.ts';
import { describeError } from '../../../../src/errors.ts';
import * as sys from '../../../../src/sys/index.ts';

/** A root and, beside it, an "outside" directory holding a file that must stay untouched. */
function setup(t: Parameters<typeof tempDir>[0]): { dir: string; outside: string; victim: string; check: () => void } {
  const dir = tempDir(t);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'original\n', { mode: 0o600 });
  const check = (): void => {
    assert.deepEqual(readdirSync(outside), ['victim'], 'nothing new outside the root');
    assert.equal(readFileSync(victim, 'utf8'), 'original\n');
    const st = statSync(victim);
    assert.equal(st.mode & 0o7777, 0o600, 'victim mode unchanged');
    assert.equal(st.nlink, 1, 'no hard link to the victim');
  };
  return { dir, outside, victim, check };
}

describe('path traversal', () => {
  test('node-tar CVE-2021-37713 / "../" names: an entry climbing above the root is refused', async (t) => {
    const { dir, check } = setup(t);
    for (const name of ['../outside/evil', 'a/../../outside/evil', './../outside/evil']) {
      await assertUnpackError(unpackInto(dir, [tarOf([{ name, data: 'x' }])]), 'unpack.path_escape', name, /path escapes the root/);
    }
    check();
  });

  test('node-tar CVE-2021-32804: absolute names ("/", "////") are written inside the root', async (t) => {
    const { dir, outside, check } = setup(t);
    const { rootfs } = await unpackInto(dir, [tarOf([{ name: `${outside}/abs1`, data: '1' }, { name: `////${outside}/abs2`, data: '2' }])]);
    assert.equal(readFileSync(join(rootfs, outside, 'abs1'), 'utf8'), '1');
    assert.equal(readFileSync(join(rootfs, outside, 'abs2'), 'utf8'), '2');
    check();
  });

  test('a NUL byte inside a PAX path is refused before any system call', async (t) => {
    const { dir, check } = setup(t);
    await assertUnpackError(unpackInto(dir, [tarOf([{ name: 'x', pax: { path: 'ok\0/../../outside/evil' }, data: 'x' }])]), 'unpack.path_nul', undefined, /NUL/);
    check();
  });
});

describe('symlink tricks', () => {
  test('node-tar CVE-2021-32803 / CVE-2021-37701: a symlink planted at a directory name, then a file through it, stays inside', async (t) => {
    const { dir, outside, check } = setup(t);
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: `${outside}/`, type: 'dir' },
        { name: 'a', type: 'dir' },
        { name: 'a', type: 'symlink', linkname: outside },
        { name: 'a/evil', data: 'through an absolute symlink' },
        { name: 'b', type: 'symlink', linkname: '../../../../../../..' },
        { name: 'b/evil2', data: 'through a relative symlink' },
      ]),
    ]);
    // Both targets resolve inside the root (as the kernel resolves them for the container).
    assert.equal(readFileSync(join(rootfs, outside, 'evil'), 'utf8'), 'through an absolute symlink');
    assert.equal(readFileSync(join(rootfs, 'evil2'), 'utf8'), 'through a relative symlink');
    assert.ok(lstatSync(join(rootfs, 'a')).isSymbolicLink(), 'the symlink itself is data and stays');
    check();
  });

  test('a file through a symlink whose target is missing inside the root is refused, never created on the host', async (t) => {
    const { dir, outside, check } = setup(t);
    await assertUnpackError(
      unpackInto(dir, [tarOf([{ name: 'a', type: 'symlink', linkname: outside }, { name: 'a/evil', data: 'x' }])]),
      'unpack.parent',
      'a/evil',
      /parent "a" is a symlink whose target is not a directory inside the root/,
    );
    check();
  });

  test('node-tar CVE-2021-37712: look-alike names (Unicode forms, backslashes) are distinct names, never a path through a symlink', async (t) => {
    const { dir, outside, check } = setup(t);
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: 'e\u0301', type: 'symlink', linkname: outside },
        { name: '\u00e9/x', data: 'x' },
        { name: 'c:..\\..\\outside\\evil', data: 'windows-style name' },
      ]),
    ]);
    assert.equal(readFileSync(join(rootfs, '\u00e9/x'), 'utf8'), 'x');
    assert.ok(existsSync(join(rootfs, 'c:..\\..\\outside\\evil')));
    check();
  });

  test('a symlink later in the same layer replaced by a file writes the file, not through the link', async (t) => {
    const { dir, victim, check } = setup(t);
    const { rootfs } = await unpackInto(dir, [
      tarOf([
        { name: 'f', type: 'symlink', linkname: victim },
        { name: 'f', data: 'new content', mode: 0o777 },
      ]),
    ]);
    assert.ok(lstatSync(join(rootfs, 'f')).isFile());
    check();
  });

  test('containerd CVE-2021-32760 / GHSA-c2h3-6mxw-7mvq: no chmod, chown or utimes follows a symlink to the host', async (t) => {
    const { dir, outside, victim, check } = setup(t);
    await unpackInto(dir, [
      tarOf([
        { name: 'link', type: 'symlink', linkname: victim, mode: 0o777, mtime: 1 },
        { name: 'dirlink', type: 'symlink', linkname: outside },
      ]),
      tarOf([
        // A directory entry at the symlink's name replaces the link, it never chmods the target.
        { name: 'dirlink', type: 'dir', mode: 0o777 },
        { name: 'hard', type: 'hardlink', linkname: 'link' },
        { name: 'hard', type: 'fifo', mode: 0o777 },
      ]),
    ]);
    check();
    assert.notEqual(statSync(outside).mode & 0o777, 0o777);
  });

  test('symlink loops are refused with the entry named', async (t) => {
    const { dir, check } = setup(t);
    await assertUnpackError(
      unpackInto(dir, [tarOf([{ name: 'l1', type: 'symlink', linkname: 'l2' }, { name: 'l2', type: 'symlink', linkname: 'l1' }, { name: 'l1/x', data: 'x' }])]),
      'unpack.entry',
      'l1/x',
      /ELOOP/,
    );
    check();
  });

  test('umoci CVE-2021-29136: the root entry cannot be turned into a symlink', async (t) => {
    const { dir, outside, check } = setup(t);
    await assertUnpackError(unpackInto(dir, [tarOf([{ name: '.', type: 'symlink', linkname: outside }, { name: 'evil', data: 'x' }])]), 'unpack.root_type', '.', /refusing to turn the root into a symlink/);
    await assertUnpackError(unpackInto(dir, [tarOf([{ name: './', type: 'hardlink', linkname: outside }])]), 'unpack.root_type', './');
    check();
  });
});

describe('hard links', () => {
  test('node-tar CVE-2021-32804 style: a hard link whose target climbs out of the root is refused', async (t) => {
    const { dir, victim, check } = setup(t);
    await assertUnpackError(unpackInto(dir, [tarOf([{ name: 'h', type: 'hardlink', linkname: `../../../../../../../..${victim}` }])]), 'unpack.link_escape', 'h');
    check();
  });

  test('an absolute hard-link target is looked up inside the root, never on the host', async (t) => {
    const { dir, victim, check } = setup(t);
    await assertUnpackError(unpackInto(dir, [tarOf([{ name: 'h', type: 'hardlink', linkname: victim }])]), 'unpack.link_target', 'h', /does not exist/);
    check();
  });

  test('a hard link through a symlink that escapes resolves inside the root', async (t) => {
    const { dir, outside, check } = setup(t);
    await assertUnpackError(
      unpackInto(dir, [tarOf([{ name: 's', type: 'symlink', linkname: outside }, { name: 'h', type: 'hardlink', linkname: 's/victim' }])]),
      'unpack.link_target',
      'h',
    );
    check();
  });

  test('a hard link to a symlink pointing outside links the symlink itself (its target stays data)', async (t) => {
    const { dir, victim, check } = setup(t);
    const { rootfs } = await unpackInto(dir, [tarOf([{ name: 's', type: 'symlink', linkname: victim }, { name: 'h', type: 'hardlink', linkname: 's' }])]);
    assert.ok(lstatSync(join(rootfs, 'h')).isSymbolicLink());
    assert.equal(lstatSync(join(rootfs, 's')).ino, lstatSync(join(rootfs, 'h')).ino);
    check();
  });
});

describe('devices and bombs', () => {
  test('device nodes are refused by name when devices are not allowed', async (t) => {
    const { dir, check } = setup(t);
    await assertUnpackError(
      unpackInto(dir, [tarOf([{ name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 }])], { devices: 'refuse' }),
      'unpack.device_refused',
      'dev/sda',
      /block device 8:0 refused/,
    );
    await assertUnpackError(
      unpackInto(dir, [tarOf([{ name: 'dev/mem', type: 'char', devmajor: 1, devminor: 1 }])], { devices: 'refuse' }),
      'unpack.device_refused',
      'dev/mem',
    );
    check();
  });

  test('a decompression bomb stops at the byte limit, naming the layer and the entry', async (t) => {
    const dir = tempDir(t);
    // 64 MiB of zeros compress to ~64 KiB.
    const tar = Buffer.concat([encodeEntry({ name: 'bomb', data: Buffer.alloc(64 * 1024 * 1024) }), TAR_END]);
    const blob = gzipSync(tar);
    assert.ok(blob.length < 256 * 1024);
    mkdirSync(join(dir, 'rootfs'));
    const layer = { digest: `sha256:${'b'.repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', open: () => Readable.from([blob]) };
    await assertUnpackError(unpackLayers(join(dir, 'rootfs'), [layer], { limits: { maxLayerBytes: 8 * 1024 * 1024 } }), 'unpack.limit', 'bomb', /exceeds 8388608 bytes/);
  });

  test('an entry-count bomb stops at the entry limit', async (t) => {
    const dir = tempDir(t);
    const entries = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}` }));
    await assertUnpackError(unpackInto(dir, [tarOf(entries)], { limits: { maxLayerEntries: 10 } }), 'unpack.limit', 'f10', /more than 10 entries/);
  });

  test('a corrupt gzip stream and a wrong diff_id are refused by layer', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'rootfs'));
    const blob = gzipSync(tarOf([{ name: 'a', data: 'x'.repeat(10000) }]));
    const corrupt = Buffer.from(blob);
    corrupt.writeUInt8((corrupt.readUInt8(corrupt.length - 12) ^ 0xff) & 0xff, corrupt.length - 12);
    const digest = `sha256:${'c'.repeat(64)}`;
    await assertUnpackError(unpackLayers(join(dir, 'rootfs'), [{ digest, open: () => Readable.from([corrupt]) }]), 'unpack.decompress', undefined);
    // A blob whose stream fails part way (a cut download) is named as such, not as corrupt.
    const cut = Readable.from(
      (async function* () {
        yield blob.subarray(0, 20);
        await Promise.resolve();
        throw new Error('connection reset');
      })(),
    );
    await assertUnpackError(unpackLayers(join(dir, 'rootfs'), [{ digest, open: () => cut }]), 'unpack.read', undefined, /reading the blob failed: connection reset/);
    await assertUnpackError(
      unpackLayers(join(dir, 'rootfs'), [{ digest, diffId: `sha256:${'0'.repeat(64)}`, open: () => Readable.from([blob]) }]),
      'unpack.diff_id',
      undefined,
      /the image config says sha256:0000/,
    );
    await assertUnpackError(
      unpackLayers(join(dir, 'rootfs'), [{ digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', open: () => Readable.from([blob]) }]),
      'unpack.compression',
      undefined,
      /says zstd but the data is gzip/,
    );
  });
});

/** A PAX global header ('g') holding `records` (key → value). */
function globalHeader(records: Record<string, string>): Buffer {
  const body = Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = rest.length + 1;
      while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
      return Buffer.from(`${len}${rest}`, 'latin1');
    }),
  );
  const h = header({ name: Buffer.from('pax_global_header'), typeflag: 'g', mode: 0, uid: 0, gid: 0, size: body.length, mtime: 0, linkname: Buffer.alloc(0), uname: '', gname: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

describe('memory and disk bombs', () => {
  test('global PAX headers that pile up for the rest of the layer (2.2 GB RSS from a 3.2 MB layer) are capped per layer, naming layer and entry', async (t) => {
    const dir = tempDir(t);
    // Each header alone is under the 1 MiB record limit; their keys differ, so before the cap every one was kept.
    const headers = Array.from({ length: 4 }, (_, i) => globalHeader({ [`comment.${i}`]: 'x'.repeat(400 * 1024) }));
    const tar = Buffer.concat([encodeEntry({ name: 'first', data: 'x' }), ...headers, encodeEntry({ name: 'after', data: 'y' }), TAR_END]);
    await assertUnpackError(unpackInto(dir, [tar]), 'tar.pax_limit', 'pax_global_header', /global PAX headers exceed 1048576 bytes in this layer \(limit\)/);
    // A few small ones, as git archive writes, are fine and still apply.
    const { rootfs } = await unpackInto(join(dir, 'ok'), [Buffer.concat([globalHeader({ comment: 'abc', 'SCHILY.xattr.user.g': 'v' }), encodeEntry({ name: 'f', data: 'z' }), TAR_END])]);
    assert.equal(readFileSync(join(rootfs, 'f'), 'utf8'), 'z');
    assert.deepEqual(sys.lgetxattr(join(rootfs, 'f'), 'user.g'), Buffer.from('v'));
  });

  test('a decompression bomb spread over several layers stops at the per-image cap, naming the layer that crossed it', async (t) => {
    const dir = tempDir(t);
    const six = (name: string): Buffer => tarOf([{ name, data: Buffer.alloc(6 * 1024 * 1024) }]);
    const err = await assertUnpackError(unpackInto(dir, [six('one'), six('two')], { limits: { maxImageBytes: 8 * 1024 * 1024 } }), 'unpack.limit', 'two', /uncompressed image exceeds 8388608 bytes \(limit, BERTH_MAX_IMAGE_BYTES\)/);
    assert.ok(err.message.startsWith(`layer ${layersOf([six('two')])[0]?.digest}:`), err.message);
  });

  test('both caps come from the environment when the caller sets none; a bad value is named', async (t) => {
    const saved = { layer: process.env['BERTH_MAX_LAYER_BYTES'], image: process.env['BERTH_MAX_IMAGE_BYTES'] };
    t.after(() => {
      for (const [k, v] of [['BERTH_MAX_LAYER_BYTES', saved.layer], ['BERTH_MAX_IMAGE_BYTES', saved.image]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const dir = tempDir(t);
    const tar = tarOf([{ name: 'big', data: Buffer.alloc(3 * 1024 * 1024) }]);
    process.env['BERTH_MAX_LAYER_BYTES'] = '2m';
    await assertUnpackError(unpackInto(join(dir, 'a'), [tar]), 'unpack.limit', 'big', /uncompressed layer exceeds 2097152 bytes \(limit, BERTH_MAX_LAYER_BYTES\)/);
    delete process.env['BERTH_MAX_LAYER_BYTES'];
    process.env['BERTH_MAX_IMAGE_BYTES'] = '5M';
    await assertUnpackError(unpackInto(join(dir, 'b'), [tar, tar]), 'unpack.limit', 'big', /uncompressed image exceeds 5242880 bytes/);
    // What the caller passes wins over the environment.
    await unpackInto(join(dir, 'c'), [tar, tar], { limits: { maxImageBytes: 16 * 1024 * 1024 } });
    process.env['BERTH_MAX_IMAGE_BYTES'] = 'lots';
    await assert.rejects(unpackInto(join(dir, 'd'), [tar]), (e: unknown) => e instanceof Error && /BERTH_MAX_IMAGE_BYTES: "lots" is not a size in bytes/.test(e.message));
  });
});

describe('overlay xattrs', () => {
  test('overlayfs xattrs in a layer (redirect, opaque) are dropped, so a mount cannot show another tree than an unpack', async (t) => {
    const dir = tempDir(t);
    // user.overlay.* is what a userxattr overlay mount reads; trusted.overlay.* is tested as root with real mounts.
    const { rootfs, results } = await unpackInto(dir, [
      tarOf([
        { name: 'a', type: 'dir', xattrs: { 'user.overlay.opaque': 'y', 'user.kept': '1' } },
        { name: 'b', type: 'dir', xattrs: { 'user.overlay.redirect': '/a' } },
        { name: 'b/f', data: 'f', xattrs: { 'user.overlay.metacopy': '' } },
      ]),
    ]);
    const userXattrs = (p: string): string[] => sys.llistxattr(join(rootfs, p)).filter((k) => k.startsWith('user.'));
    assert.deepEqual(userXattrs('a'), ['user.kept']);
    assert.deepEqual(userXattrs('b'), []);
    assert.deepEqual(userXattrs('b/f'), []);
    assert.match(results[0]?.warnings.join('\n') ?? '', /xattr "user.overlay.opaque" dropped \(overlayfs's own\), first on "a"/);
  });
});

describe('error messages', () => {
  test('a very deep path makes a short error that keeps the name\'s start and end and says its reason once', async (t) => {
    const dir = tempDir(t);
    const deep = `${'a/'.repeat(2100)}end`;
    let caught: unknown;
    try {
      await unpackInto(dir, [tarOf([{ name: deep, data: 'x' }])]);
    } catch (err) {
      caught = err;
    }
    const text = describeError(caught);
    assert.ok(text.length < 1000, `${text.length} characters: ${text.slice(0, 300)}`);
    assert.match(text, /entry "a\/a\/a\/.*….*\/a\/end": ENAMETOOLONG/);
    assert.equal(text.split('ENAMETOOLONG').length - 1, 1, text);
  });

  test('a layer error wrapping a refusal says its reason once ("X", not "X: X")', async (t) => {
    const dir = tempDir(t);
    let caught: unknown;
    try {
      await unpackInto(dir, [tarOf([{ name: 'h', type: 'hardlink', linkname: 'missing' }])]);
    } catch (err) {
      caught = err;
    }
    const text = describeError(caught);
    assert.equal(text.split('does not exist').length - 1, 1, text);
  });
});

describe('descriptors', () => {
  const openFds = (): number => readdirSync('/proc/self/fd').length;

  test('failed and successful unpacks leave no fd open', async (t) => {
    const { dir } = setup(t);
    await unpackInto(dir, [tarOf([{ name: 'warm', data: 'x' }])]);
    const before = openFds();
    const failing = [
      [tarOf([{ name: 'd/f', data: 'x'.repeat(5000) }, { name: '../escape', data: 'x' }])],
      [tarOf([{ name: 'l1', type: 'symlink', linkname: 'l2' }, { name: 'l2', type: 'symlink', linkname: 'l1' }, { name: 'l1/x', data: 'x' }])],
      [tarOf([{ name: 'a/b/c', data: 'x' }, { name: 'h', type: 'hardlink', linkname: 'missing' }])],
      [tarOf([{ name: 'x', data: 'x' }]), tarOf([{ name: 'x/y', data: 'parent is a file' }])],
    ];
    for (const [i, tars] of failing.entries()) await assert.rejects(unpackInto(join(dir, `fail-${i}`), tars));
    await unpackInto(join(dir, 'ok'), [tarOf([{ name: 'a/b', data: 'x' }, { name: 'a/.wh.b' }]), tarOf([{ name: 'a/.wh..wh..opq' }, { name: 'a/c', data: 'y' }])]);
    assert.equal(openFds(), before);
  });
});
