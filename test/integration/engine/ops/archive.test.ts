/**
 * The container archive (docker cp's server side) on a busybox rootfs built
 * in a temporary directory, with bind mounts and volumes as host
 * directories: first the attacks (each named after it; the host directory
 * beside the rootfs holds what must never be read or written), then round
 * trips and dockerd's path and ownership rules. Root only (owners, devices).
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { makeRootfs, tempDir } from '../../../helpers/runtime.ts';
import { startSwapper } from '../../../helpers/swapper.ts';
import { getArchive, putArchive, statPath, type ContainerView } from '../../../../src/engine/ops/archive.ts';
import { GoMode, decodePathStat, encodePathStat } from '../../../../src/engine/ops/path-stat.ts';
import { tarStream, type TarMember } from '../../../../src/image/tar/writer.ts';
import { TarReader } from '../../../../src/image/tar/reader.ts';
import type { TarEntry } from '../../../../src/image/unpack/entry.ts';
import { isBerthError } from '../../../../src/errors.ts';

interface Fixture {
  /** Host directory holding the rootfs; its files are the host's, never the container's. */
  host: string;
  rootfs: string;
  view: ContainerView;
}

function fixture(t: TestContext): Fixture {
  const host = tempDir(t, 'berth-cp-');
  const rootfs = makeRootfs(join(host, 'c'));
  writeFileSync(join(host, 'secret.txt'), 'HOST SECRET\n');
  return { host, rootfs, view: { rootfs, mounts: [] } };
}

interface Got {
  entry: TarEntry;
  data: Buffer;
}

async function readTar(stream: Readable): Promise<Got[]> {
  const out: Got[] = [];
  let parts: Buffer[] = [];
  const reader = new TarReader(
    {
      entry: () => {
        parts = [];
      },
      data: (chunk) => parts.push(Buffer.from(chunk)),
      entryEnd: (entry) => out.push({ entry, data: Buffer.concat(parts) }),
    },
    'test',
  );
  for await (const chunk of stream) reader.push(chunk as Buffer);
  reader.end();
  return out;
}

function tar(members: TarMember[]): Readable {
  return tarStream(members);
}

const file = (name: string, body: string, extra: Partial<TarMember['header']> = {}): TarMember => ({
  header: { name, type: 'file', mode: 0o644, mtime: 1_600_000_000, ...extra },
  data: Buffer.from(body),
});

async function rejectsCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  await assert.rejects(typeof p === 'function' ? Promise.resolve().then(p) : p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('attacks', () => {
  test('cp from a symlink pointing at / stays in the container', async (t) => {
    const f = fixture(t);
    symlinkSync('/', join(f.rootfs, 'etc', 'evil'));
    writeFileSync(join(f.rootfs, 'etc', 'hostname'), 'container\n');
    const { stream } = getArchive(f.view, '/etc/evil/etc/hostname');
    const got = await readTar(stream);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.data.toString(), 'container\n');
  });

  test('cp from a relative symlink climbing out (../..) stays in the container', async (t) => {
    const f = fixture(t);
    // On the host rootfs/up/secret.txt is the host's secret; in the container /up is /.
    symlinkSync('../..', join(f.rootfs, 'up'));
    assert.equal(readFileSync(join(f.rootfs, 'up', 'secret.txt'), 'utf8'), 'HOST SECRET\n');
    await rejectsCode(() => statPath(f.view, '/up/secret.txt'), 'cp_path_not_found');
    writeFileSync(join(f.rootfs, 'secret.txt'), 'container file\n');
    const got = await readTar(getArchive(f.view, '/up/secret.txt').stream);
    assert.equal(got[0]?.data.toString(), 'container file\n');
  });

  test('cp into a symlink pointing at / stays in the container', async (t) => {
    const f = fixture(t);
    symlinkSync('/', join(f.rootfs, 'etc', 'evil'));
    const name = `berth-cp-pwned-${process.pid}`;
    await putArchive(f.view, '/etc/evil', tar([file(name, 'pwned')]));
    assert.equal(existsSync(join('/', name)), false, 'written on the host root');
    assert.equal(readFileSync(join(f.rootfs, name), 'utf8'), 'pwned');
  });

  test('cp into a directory through a container symlink climbing out (../..) writes inside', async (t) => {
    const f = fixture(t);
    symlinkSync('../..', join(f.rootfs, 'up'));
    await putArchive(f.view, '/', tar([file('up/secret.txt', 'PWNED')]));
    assert.equal(readFileSync(join(f.host, 'secret.txt'), 'utf8'), 'HOST SECRET\n');
    assert.equal(readFileSync(join(f.rootfs, 'secret.txt'), 'utf8'), 'PWNED');
  });

  test('a tar entry named with .. climbing out of the destination is refused, nothing written', async (t) => {
    const f = fixture(t);
    await rejectsCode(putArchive(f.view, '/tmp', tar([file('../../../../escape.txt', 'x')])), 'cp_archive_breakout');
    assert.equal(existsSync(join(f.host, 'escape.txt')), false);
    assert.equal(existsSync(join(f.rootfs, 'escape.txt')), false);
  });

  test('a tar entry with an absolute name lands under the destination', async (t) => {
    const f = fixture(t);
    const name = `berth-cp-abs-${process.pid}`;
    await putArchive(f.view, '/tmp', tar([file(`/${name}`, 'abs')]));
    assert.equal(existsSync(join('/', name)), false);
    assert.equal(readFileSync(join(f.rootfs, 'tmp', name), 'utf8'), 'abs');
  });

  test('a tar symlink to / then a file through it (symlinked parent) writes into the container', async (t) => {
    const f = fixture(t);
    const name = `berth-cp-through-${process.pid}`;
    await putArchive(f.view, '/tmp', tar([{ header: { name: 'l', type: 'symlink', mode: 0o777, linkname: '/' } }, file(`l/root/${name}`, 'through')]));
    assert.equal(existsSync(join('/root', name)), false, 'written through the symlink on the host');
    assert.equal(readFileSync(join(f.rootfs, 'root', name), 'utf8'), 'through');
    assert.equal(readlinkSync(join(f.rootfs, 'tmp', 'l')), '/');
  });

  test('a tar symlink whose relative target climbs out of the destination is refused (dockerd breakout)', async (t) => {
    const f = fixture(t);
    await rejectsCode(putArchive(f.view, '/tmp', tar([{ header: { name: 'l', type: 'symlink', mode: 0o777, linkname: '../../..' } }])), 'cp_archive_breakout');
    assert.equal(existsSync(join(f.rootfs, 'tmp', 'l')), false);
  });

  test('a tar hard link pointing outside the destination is refused', async (t) => {
    const f = fixture(t);
    await rejectsCode(putArchive(f.view, '/tmp', tar([{ header: { name: 'h', type: 'hardlink', mode: 0o644, linkname: '../../../secret.txt' } }])), 'cp_archive_breakout');
    assert.equal(statSync(join(f.host, 'secret.txt')).nlink, 1);
  });

  test('a tar hard link through a container symlink climbing out cannot link a host file', async (t) => {
    const f = fixture(t);
    symlinkSync('../..', join(f.rootfs, 'up'));
    await rejectsCode(putArchive(f.view, '/', tar([{ header: { name: 'h', type: 'hardlink', mode: 0o644, linkname: 'up/secret.txt' } }])), 'cp_link_target');
    assert.equal(statSync(join(f.host, 'secret.txt')).nlink, 1);
    assert.equal(existsSync(join(f.rootfs, 'h')), false);
  });

  test('a device node is made in the rootfs (as dockerd) but refused in a volume (a host directory)', async (t) => {
    const f = fixture(t);
    const vol = join(f.host, 'vol');
    mkdirSync(vol);
    mkdirSync(join(f.rootfs, 'data'));
    const view: ContainerView = { rootfs: f.rootfs, mounts: [{ target: '/data', source: vol, readonly: false }] };
    const dev = (): TarMember => ({ header: { name: 'null2', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } });
    await putArchive(view, '/tmp', tar([dev()]));
    assert.ok(lstatSync(join(f.rootfs, 'tmp', 'null2')).isCharacterDevice());
    await rejectsCode(putArchive(view, '/data', tar([dev()])), 'cp_device_in_mount');
    assert.deepEqual(readdirSync(vol), []);
  });

  test('cp into a read-only rootfs or a read-only mount is refused, also through a symlink', async (t) => {
    const f = fixture(t);
    const ro = join(f.host, 'ro');
    mkdirSync(ro);
    mkdirSync(join(f.rootfs, 'ro'));
    symlinkSync('/ro', join(f.rootfs, 'tmp', 'toro'));
    const view: ContainerView = { rootfs: f.rootfs, mounts: [{ target: '/ro', source: ro, readonly: true }] };
    await rejectsCode(putArchive({ ...view, readonlyRootfs: true }, '/tmp', tar([file('x', 'x')])), 'cp_read_only');
    await rejectsCode(putArchive(view, '/ro', tar([file('x', 'x')])), 'cp_read_only');
    await rejectsCode(putArchive(view, '/', tar([file('ro/x', 'x')])), 'cp_read_only');
    await rejectsCode(putArchive(view, '/tmp', tar([file('toro/x', 'x')])), 'cp_read_only');
    assert.deepEqual(readdirSync(ro), []);
    assert.equal(existsSync(join(f.rootfs, 'tmp', 'x')), false);
    // A writable mount on a read-only rootfs takes writes (dockerd's rule).
    const rw = join(f.host, 'rw');
    mkdirSync(rw);
    await putArchive({ rootfs: f.rootfs, readonlyRootfs: true, mounts: [{ target: '/rw', source: rw, readonly: false }] }, '/rw', tar([file('ok', 'ok')]));
    assert.equal(readFileSync(join(rw, 'ok'), 'utf8'), 'ok');
  });

  test('CVE-2018-15664: a directory swapped with a symlink to the host during cp never reaches the host', async (t) => {
    const f = fixture(t);
    const w = join(f.rootfs, 'w');
    mkdirSync(join(w, 'dir'), { recursive: true });
    writeFileSync(join(w, 'dir', 'marker'), 'CONTAINER');
    // The host path the symlink names holds a marker of its own: reading it, or writing there, is the escape.
    writeFileSync(join(f.host, 'marker'), 'HOST');
    symlinkSync(f.host, join(w, 'swap'));
    const swapper = await startSwapper(t, w, 'dir', 'swap');
    let read = 0;
    let written = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      try {
        const got = await readTar(getArchive(f.view, '/w/dir/marker').stream);
        assert.notEqual(got[0]?.data.toString(), 'HOST', 'read the host file');
        read++;
      } catch (err) {
        if (!isBerthError(err)) throw err;
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
      try {
        await putArchive(f.view, '/w/dir', tar([file(`pwn-${i}`, 'x')]));
        written++;
      } catch (err) {
        if (!isBerthError(err)) throw err;
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    swapper.stop();
    assert.deepEqual(readdirSync(f.host).filter((n) => n.startsWith('pwn-')), [], 'wrote into the host directory');
    // Refusals are what a swapped path earns (not there, not a directory); anything else is a bug.
    assert.deepEqual([...codes.keys()].filter((c) => c !== 'cp_path_not_found' && c !== 'cp_not_a_directory'), []);
    assert.ok(read > 0 && written > 0, `the race ran both ways (read ${read}, written ${written}, refused ${JSON.stringify([...codes])})`);
  });
});

describe('stat (HEAD)', () => {
  test("modes are Go FileModes as dockerd reports them: a dir, a symlink, a setuid file", (t) => {
    const f = fixture(t);
    mkdirSync(join(f.rootfs, 'd'), { mode: 0o755 });
    chmodSync(join(f.rootfs, 'd'), 0o755);
    writeFileSync(join(f.rootfs, 'suid'), 'x');
    chmodSync(join(f.rootfs, 'suid'), 0o4755);
    symlinkSync('/d', join(f.rootfs, 'lnk'));
    utimesSync(join(f.rootfs, 'suid'), 1_600_000_000.5, 1_600_000_000.5);
    const dir = statPath(f.view, '/d');
    assert.equal(dir.mode, 2147484141); // os.ModeDir|0755, as docker's API shows it
    assert.equal(dir.name, 'd');
    const suid = statPath(f.view, '/suid');
    assert.equal(suid.mode, 0o755 + GoMode.Setuid);
    assert.equal(suid.size, 1);
    assert.equal(suid.mtime, '2020-09-13T12:26:40.5Z');
    const link = statPath(f.view, '/lnk');
    assert.equal(link.mode, 134218239); // os.ModeSymlink|0777
    assert.equal(link.linkTarget, '/d');
    // A trailing "/" follows the link (dockerd's ResolvePath).
    assert.equal(statPath(f.view, '/lnk/').mode, 2147484141);
    assert.deepEqual(decodePathStat(encodePathStat(link)), link);
  });

  test('linkTarget is fully resolved in the container, through a chain and a mount', (t) => {
    const f = fixture(t);
    const vol = join(f.host, 'vol');
    mkdirSync(join(vol, 'real'), { recursive: true });
    symlinkSync('/data/real', join(f.rootfs, 'a'));
    symlinkSync('a', join(f.rootfs, 'b'));
    const view: ContainerView = { rootfs: f.rootfs, mounts: [{ target: '/data', source: vol, readonly: false }] };
    assert.equal(statPath(view, '/b').linkTarget, '/data/real');
    assert.ok(statPath(view, '/b/.').mode >= GoMode.Dir, 'a directory');
  });

  test('a missing path is not found, a file in the middle is not a directory', async (t) => {
    const f = fixture(t);
    await rejectsCode(() => statPath(f.view, '/nope'), 'cp_path_not_found');
    await rejectsCode(() => statPath(f.view, '/etc/passwd/x'), 'cp_not_a_directory');
  });
});

describe('get', () => {
  function tree(f: Fixture): void {
    const foo = join(f.rootfs, 'foo');
    mkdirSync(join(foo, 'sub'), { recursive: true });
    writeFileSync(join(foo, 'a'), 'aaa');
    linkSync(join(foo, 'a'), join(foo, 'sub', 'a-link'));
    writeFileSync(join(foo, 'sub', 'b'), 'bbbb');
    symlinkSync('../a', join(foo, 'sub', 'rel'));
    chownSync(join(foo, 'sub', 'b'), 1234, 5678);
  }

  test('a directory is archived under its name, hard links once, symlinks as symlinks, owners kept', async (t) => {
    const f = fixture(t);
    tree(f);
    const { stat, stream } = getArchive(f.view, '/foo');
    assert.equal(stat.name, 'foo');
    const got = await readTar(stream);
    assert.deepEqual(
      got.map((g) => `${g.entry.type} ${g.entry.path}${g.entry.linkname === '' ? '' : ` -> ${g.entry.linkname}`}`),
      ['dir foo', 'file foo/a', 'dir foo/sub', 'hardlink foo/sub/a-link -> foo/a', 'file foo/sub/b', 'symlink foo/sub/rel -> ../a'],
    );
    const b = got.find((g) => g.entry.path === 'foo/sub/b');
    assert.equal(b?.data.toString(), 'bbbb');
    assert.equal(b?.entry.uid, 1234);
    assert.equal(b?.entry.gid, 5678);
    assert.equal(b?.entry.uname, '');
  });

  test('"foo/." is archived as "./...", a symlink with a trailing "/" under the link\'s name', async (t) => {
    const f = fixture(t);
    tree(f);
    symlinkSync('foo', join(f.rootfs, 'alias'));
    const dot = await readTar(getArchive(f.view, '/foo/.').stream);
    assert.equal(dot[0]?.entry.path, '.');
    assert.ok(dot.some((g) => g.entry.path === './sub/b'));
    const viaLink = await readTar(getArchive(f.view, '/alias/').stream);
    assert.equal(viaLink[0]?.entry.path, 'alias');
    assert.ok(viaLink.some((g) => g.entry.path === 'alias/sub/b'));
    const link = await readTar(getArchive(f.view, '/alias').stream);
    assert.deepEqual(link.map((g) => [g.entry.type, g.entry.path, g.entry.linkname]), [['symlink', 'alias', 'foo']]);
  });

  test('mounts are crossed as the container sees them (the volume, not the directory beneath it)', async (t) => {
    const f = fixture(t);
    const vol = join(f.host, 'vol');
    mkdirSync(vol);
    writeFileSync(join(vol, 'in-volume'), 'volume data');
    mkdirSync(join(f.rootfs, 'data'));
    writeFileSync(join(f.rootfs, 'data', 'hidden'), 'under the mount');
    const view: ContainerView = { rootfs: f.rootfs, mounts: [{ target: '/data', source: vol, readonly: true }] };
    const all = await readTar(getArchive(view, '/').stream);
    const names = all.map((g) => g.entry.path);
    assert.ok(names.includes('/data/in-volume'), 'the volume is in the archive of /');
    assert.ok(!names.includes('/data/hidden'));
    assert.ok(names.includes('/bin/busybox'));
    assert.equal(all.find((g) => g.entry.path === '/data/in-volume')?.data.toString(), 'volume data');
  });

  test('a file bind mount (/etc/hostname) is read from its source; a mount target given through a symlink (/var/run -> /run) matches', async (t) => {
    const f = fixture(t);
    const hostname = join(f.host, 'hostname');
    writeFileSync(hostname, 'from-the-engine\n');
    writeFileSync(join(f.rootfs, 'etc', 'hostname'), 'image\n');
    const sock = join(f.host, 'sockdir');
    mkdirSync(sock);
    writeFileSync(join(sock, 'in-run'), 'run');
    mkdirSync(join(f.rootfs, 'run', 'x'), { recursive: true });
    symlinkSync('../run', join(f.rootfs, 'var', 'run'));
    const view: ContainerView = {
      rootfs: f.rootfs,
      mounts: [
        { target: '/etc/hostname', source: hostname, readonly: false },
        { target: '/var/run/x', source: sock, readonly: false },
      ],
    };
    assert.equal(statPath(view, '/etc/hostname').size, 'from-the-engine\n'.length);
    const got = await readTar(getArchive(view, '/etc/hostname').stream);
    assert.equal(got[0]?.data.toString(), 'from-the-engine\n');
    const run = await readTar(getArchive(view, '/run/x').stream);
    assert.deepEqual(run.map((g) => g.entry.path), ['x', 'x/in-run']);
    await rejectsCode(putArchive(view, '/etc', tar([file('hostname', 'x')])), 'cp_mount_point');
    assert.equal(readFileSync(hostname, 'utf8'), 'from-the-engine\n');
  });
});

describe('put', () => {
  test('round trip: what GET gave, PUT writes back identically (modes, setuid, owners, times, links)', async (t) => {
    const f = fixture(t);
    const src = join(f.rootfs, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'suid'), 'suid');
    // chown clears setuid: owner first.
    chownSync(join(src, 'suid'), 1000, 1001);
    chmodSync(join(src, 'suid'), 0o4750);
    writeFileSync(join(src, 'd', 'f'), 'f');
    linkSync(join(src, 'd', 'f'), join(src, 'd', 'f2'));
    symlinkSync('d/f', join(src, 'ln'));
    utimesSync(join(src, 'd', 'f'), 1_500_000_000, 1_500_000_000);
    utimesSync(join(src, 'd'), 1_400_000_000, 1_400_000_000);
    await putArchive(f.view, '/tmp', getArchive(f.view, '/src').stream);
    const out = join(f.rootfs, 'tmp', 'src');
    const suid = statSync(join(out, 'suid'));
    assert.equal(suid.mode & 0o7777, 0o4750);
    assert.equal(suid.uid, 1000);
    assert.equal(suid.gid, 1001);
    assert.equal(statSync(join(out, 'd', 'f')).nlink, 2);
    assert.equal(statSync(join(out, 'd', 'f')).ino, statSync(join(out, 'd', 'f2')).ino);
    assert.equal(statSync(join(out, 'd', 'f')).mtimeMs, 1_500_000_000_000);
    assert.equal(statSync(join(out, 'd')).mtimeMs, 1_400_000_000_000);
    assert.equal(readlinkSync(join(out, 'ln')), 'd/f');
  });

  test('owners: the archive\'s by default, the given user\'s with copyUIDGID', async (t) => {
    const f = fixture(t);
    await putArchive(f.view, '/tmp', tar([file('kept', 'k', { uid: 42, gid: 43 })]));
    assert.equal(statSync(join(f.rootfs, 'tmp', 'kept')).uid, 42);
    await putArchive(f.view, '/tmp', tar([file('mine', 'm', { uid: 42, gid: 43 }), { header: { name: 'dir/', type: 'dir', mode: 0o700, uid: 42 } }]), { owner: { uid: 1000, gid: 100 } });
    for (const p of ['mine', 'dir']) {
      const st = statSync(join(f.rootfs, 'tmp', p));
      assert.deepEqual([st.uid, st.gid], [1000, 100], p);
    }
  });

  test('noOverwriteDirNonDir refuses a file over a directory and the reverse; without it, replaced', async (t) => {
    const f = fixture(t);
    mkdirSync(join(f.rootfs, 'tmp', 'd'));
    writeFileSync(join(f.rootfs, 'tmp', 'd', 'inside'), '');
    writeFileSync(join(f.rootfs, 'tmp', 'file'), '');
    await rejectsCode(putArchive(f.view, '/tmp', tar([file('d', 'x')]), { noOverwriteDirNonDir: true }), 'cp_overwrite_dir');
    await rejectsCode(putArchive(f.view, '/tmp', tar([{ header: { name: 'file/', type: 'dir', mode: 0o755 } }]), { noOverwriteDirNonDir: true }), 'cp_overwrite_dir');
    assert.ok(existsSync(join(f.rootfs, 'tmp', 'd', 'inside')));
    await putArchive(f.view, '/tmp', tar([file('d', 'now a file')]));
    assert.equal(readFileSync(join(f.rootfs, 'tmp', 'd'), 'utf8'), 'now a file');
    // Within one archive: a directory written into, then replaced by a file, is a file for the entries after.
    await rejectsCode(putArchive(f.view, '/tmp', tar([file('e/1', '1'), file('e', 'file'), file('e/2', '2')])), 'cp_not_a_directory');
    assert.equal(readFileSync(join(f.rootfs, 'tmp', 'e'), 'utf8'), 'file');
  });

  test('the destination must be an existing directory; a symlink to one is followed; missing parents are made', async (t) => {
    const f = fixture(t);
    await rejectsCode(putArchive(f.view, '/nope', tar([])), 'cp_path_not_found');
    await rejectsCode(putArchive(f.view, '/etc/passwd', tar([])), 'cp_not_a_directory');
    symlinkSync('/tmp', join(f.rootfs, 'tmplink'));
    await putArchive(f.view, '/tmplink', tar([file('deep/er/x', 'x')]));
    assert.equal(readFileSync(join(f.rootfs, 'tmp', 'deep', 'er', 'x'), 'utf8'), 'x');
    assert.equal(statSync(join(f.rootfs, 'tmp', 'deep')).mode & 0o777, 0o755);
  });

  test('a mount point is never replaced; a gzip archive is taken', async (t) => {
    const f = fixture(t);
    const vol = join(f.host, 'vol');
    mkdirSync(vol);
    mkdirSync(join(f.rootfs, 'data'));
    const view: ContainerView = { rootfs: f.rootfs, mounts: [{ target: '/data', source: vol, readonly: false }] };
    await rejectsCode(putArchive(view, '/', tar([file('data', 'x')])), 'cp_mount_point');
    const { createGzip } = await import('node:zlib');
    await putArchive(view, '/', tar([file('data/zipped', 'z')]).pipe(createGzip()));
    assert.equal(readFileSync(join(vol, 'zipped'), 'utf8'), 'z');
  });

  test('bzip2 is refused by name; a broken archive names the destination, not a layer', async (t) => {
    const f = fixture(t);
    const { Readable } = await import('node:stream');
    await rejectsCode(putArchive(f.view, '/tmp', Readable.from([Buffer.from('BZh91AY&SY')])), 'cp_archive_compression');
    await assert.rejects(putArchive(f.view, '/tmp', Readable.from([Buffer.alloc(512, 1)])), (err: unknown) => {
      assert.ok(isBerthError(err, 'tar_invalid'));
      assert.match((err as Error).message, /^archive for container path "\/tmp": /);
      return true;
    });
  });
});
