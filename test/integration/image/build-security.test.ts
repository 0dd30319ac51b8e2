import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tarOf } from '../../unit/image/unpack/fixtures/tar-writer.ts';
import { buildFixture, leftovers, NOTHING_LEFT, type BuildFixture } from './build-fixture.ts';

/** The uncompressed layer tars of an image, as the store holds them. */
async function layerTars(f: BuildFixture, name: string): Promise<Buffer[]> {
  return f.withStore(async (store) => {
    const image = store.resolve(name);
    return Promise.all(image.layers.map(async (l) => gunzipSync(await buffer(await store.readBlob(l.digest)))));
  });
}

describe('berth build security (root)', () => {
  test('CVE-2014-9356: context symlinks resolve inside the context; symlinks below a copied directory are copied, never followed', async (t) => {
    const f = await buildFixture(t);
    f.write({ 'hello.txt': 'hello\n' });
    symlinkSync('/etc', join(f.context, 'abs-etc'));
    symlinkSync('../../../../../../etc/passwd', join(f.context, 'climb'));
    symlinkSync('hello.txt', join(f.context, 'alias.txt'));
    mkdirSync(join(f.context, 'dir'));
    symlinkSync('/etc/passwd', join(f.context, 'dir', 'pw'));

    for (const [src, shown] of [['abs-etc/passwd', 'abs-etc/passwd'], ['climb', 'climb']]) {
      writeFileSync(join(f.context, 'Containerfile'), `FROM busybox\nCOPY ${src} /stolen\n`);
      const r = await f.berth('build', f.context);
      assert.notEqual(r.code, 0, src);
      assert.match(r.stderr, new RegExp(`Containerfile:2: COPY: source "${shown}" not found in the context`), src);
    }

    writeFileSync(join(f.context, 'Containerfile'), 'FROM busybox\nCOPY alias.txt /a.txt\nCOPY dir /d/\n');
    await f.berthOk('build', '-t', 'links', f.context);
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'links', bundle);
    assert.equal(readFileSync(join(bundle, 'rootfs/a.txt'), 'utf8'), 'hello\n', 'a named source that is a symlink is followed (inside the context)');
    assert.ok(lstatSync(join(bundle, 'rootfs/d/pw')).isSymbolicLink(), 'a symlink inside a copied directory stays a symlink');
    assert.equal(readlinkSync(join(bundle, 'rootfs/d/pw')), '/etc/passwd');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('CVE-2019-10152: COPY to a path through a symlink the image planted stays in the image; a dangling one is an error', async (t) => {
    const hostSide = 'host-target';
    const f = await buildFixture(t);
    const host = join(f.dir, hostSide);
    mkdirSync(host);
    // The base image has /target -> <the host directory's absolute path>, and that same path inside the image.
    const rootfs = join(f.dir, 'evil-rootfs');
    mkdirSync(join(rootfs, host), { recursive: true });
    symlinkSync(host, join(rootfs, 'target'));
    symlinkSync(join(f.dir, 'nowhere'), join(rootfs, 'dangling'));
    await f.berthOk('--quiet', 'import', rootfs, 'evil');
    f.write({ 'hello.txt': 'hello\n' });

    f.write({ Containerfile: 'FROM evil\nCOPY hello.txt /target/\n' });
    await f.berthOk('build', '-t', 'through', f.context);
    assert.deepEqual(readdirSync(host), [], 'nothing was written on the host');
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'through', bundle);
    assert.equal(readFileSync(join(bundle, 'rootfs', host, 'hello.txt'), 'utf8'), 'hello\n', 'the symlink was resolved inside the image');

    f.write({ Containerfile: 'FROM evil\nCOPY hello.txt /dangling/x\n' });
    const r = await f.berth('build', f.context);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Containerfile:2: COPY: .*"\/dangling" is a symlink to something that does not exist/);
    assert.equal(existsSync(join(f.dir, 'nowhere')), false);

    // The same with a symlink a RUN step made.
    f.write({ Containerfile: `FROM busybox\nRUN mkdir -p ${host} && ln -s ${host} /made\nCOPY hello.txt /made/\n` });
    await f.berthOk('build', '-t', 'made', f.context);
    assert.deepEqual(readdirSync(host), []);
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('ADD refuses archive entries that climb out of the destination and writes nothing outside it', async (t) => {
    const f = await buildFixture(t);
    const outside = join(f.dir, 'outside');
    mkdirSync(outside);
    const climb = tarOf([{ name: 'ok.txt', data: 'ok' }, { name: '../../../../escape.txt', data: 'x' }]);
    writeFileSync(join(f.context, 'climb.tar.gz'), gzipSync(climb));
    f.write({ Containerfile: 'FROM busybox\nADD climb.tar.gz /dest/\n' });
    const r = await f.berth('build', f.context);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Containerfile:2: ADD: .*archive "climb\.tar\.gz": entry "\.\.\/\.\.\/\.\.\/\.\.\/escape\.txt" escapes the destination/);

    // A symlink the archive plants, then a file written "through" it: resolved in the image, not on the host.
    const through = tarOf([{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/pwned', data: 'x' }]);
    writeFileSync(join(f.context, 'through.tar'), through);
    f.write({ Containerfile: 'FROM busybox\nADD through.tar /dest/\n' });
    const r2 = await f.berth('build', f.context);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /^berth: Containerfile:2: ADD: entry "dest\/link\/pwned": parent "dest\/link" is a symlink whose target is not a directory inside the root: ENOENT/m);
    assert.deepEqual(readdirSync(outside), [], 'nothing was written on the host');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('ADD of an archive with device nodes (a world-writable /dev/sda, /dev/mem) leaves empty files without permissions, as unpack and mount do', async (t) => {
    const f = await buildFixture(t);
    const devices = tarOf([
      { name: 'sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 },
      { name: 'mem', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 },
    ]);
    writeFileSync(join(f.context, 'devices.tar'), devices);
    f.write({ Containerfile: 'FROM busybox\nADD devices.tar /dev-from-add/\n' });
    await f.berthOk('build', '-t', 'devices', f.context);
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'devices', bundle);
    for (const name of ['sda', 'mem']) {
      const st = lstatSync(join(bundle, 'rootfs/dev-from-add', name));
      assert.ok(st.isFile(), `${name} is a plain file in the image`);
      assert.equal(st.mode & 0o7777, 0, name);
    }
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('names starting with .wh. cannot be copied (they would read as deletions in the layer)', async (t) => {
    const f = await buildFixture(t);
    f.write({ 'dir/.wh.etc': '', Containerfile: 'FROM busybox\nCOPY dir /d/\n' });
    const r = await f.berth('build', f.context);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Containerfile:2: COPY: .*"d\/\.wh\.etc": names starting with "\.wh\." mark deletions/);
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('RUN without seccomp: a RUN step runs under the default profile (Seccomp: 2) and a syscall it blocks fails', async (t) => {
    const f = await buildFixture(t);
    // unshare(CLONE_NEWUSER) needs no capability, so only a seccomp filter refuses it to root without CAP_SYS_ADMIN.
    f.write({ Containerfile: 'FROM busybox\nRUN grep Seccomp: /proc/self/status > /seccomp.txt; unshare -U true; echo "rc=$?" > /unshare.txt\n' });
    await f.berthOk('build', '-t', 'filtered', f.context);
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'filtered', bundle);
    assert.match(readFileSync(join(bundle, 'rootfs/seccomp.txt'), 'utf8'), /^Seccomp:\s+2$/m);
    assert.notEqual(readFileSync(join(bundle, 'rootfs/unshare.txt'), 'utf8').trim(), 'rc=0', 'unshare(CLONE_NEWUSER) is refused by the filter');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('.dockerignore bypass through a symlink: an ignored file or directory does not reach the image through a link to it', async (t) => {
    const f = await buildFixture(t);
    const SECRET = 'the-secret-content';
    f.write({
      '.dockerignore': 'secret.txt\nsecrets\n',
      'secret.txt': `${SECRET} file\n`,
      'secrets/key.txt': `${SECRET} dir\n`,
      'info.txt': 'info\n',
      'data/x.txt': 'x\n',
    });
    symlinkSync('secret.txt', join(f.context, 'innocent'));
    symlinkSync('secrets', join(f.context, 'docs'));

    // Named directly, the links lead to what is not in the context.
    for (const src of ['innocent', 'docs', 'docs/key.txt']) {
      writeFileSync(join(f.context, 'Containerfile'), `FROM busybox\nCOPY ${src} /stolen\n`);
      const r = await f.berth('build', f.context);
      assert.notEqual(r.code, 0, src);
      assert.match(r.stderr, new RegExp(`Containerfile:2: COPY: source "${src}" not found in the context`), src);
    }

    // Matched by a wildcard beside files that may come: the links are left out, the rest is copied.
    f.write({ Containerfile: 'FROM busybox\nCOPY in* /files/\nCOPY d* /dirs/\nCOPY . /ctx/\n' });
    await f.berthOk('build', '-t', 'ignored', f.context);
    const layers = await layerTars(f, 'ignored');
    assert.ok(layers.some((l) => l.includes('info\n')), 'the layers hold what was copied');
    for (const l of layers) assert.equal(l.includes(SECRET), false, 'no layer holds the ignored content');
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'ignored', bundle);
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/files')), ['info.txt']);
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/dirs')), ['x.txt']);
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/ctx')).sort(), ['.dockerignore', 'Containerfile', 'data', 'docs', 'info.txt', 'innocent'], 'the context copies its links as links');
    assert.equal(readlinkSync(join(bundle, 'rootfs/ctx/innocent')), 'secret.txt');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });
});
