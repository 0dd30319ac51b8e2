import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser, type ReadEntry } from 'tar';
import { TarReader } from '../../../../src/image/tar/reader.ts';
import type { TarEntry } from '../../../../src/image/unpack/entry.ts';
import { isBerthError } from '../../../../src/errors.ts';
import { encodeEntry, header, tarOf, TAR_END, type WriteEntry } from '../unpack/fixtures/tar-writer.ts';

interface Read {
  entry: TarEntry;
  data: Buffer;
}

function readAll(archive: Buffer, chunkSize = archive.length): Read[] {
  const out: Read[] = [];
  let parts: Buffer[] = [];
  const reader = new TarReader(
    {
      entry: () => {
        parts = [];
      },
      data: (c) => parts.push(Buffer.from(c)),
      entryEnd: (e) => out.push({ entry: e, data: Buffer.concat(parts) }),
    },
    'sha256:test',
  );
  for (let i = 0; i < archive.length; i += chunkSize) reader.push(archive.subarray(i, i + chunkSize));
  reader.end();
  return out;
}

const long = 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(80);
const varied: WriteEntry[] = [
  { name: 'dir', type: 'dir', mode: 0o1755, uid: 1000, gid: 1001, uname: 'u', gname: 'g', mtime: 1_500_000_000 },
  { name: 'dir/file', data: 'hello world\n', mode: 0o4755 },
  { name: 'dir/empty', data: '' },
  { name: 'dir/big', data: Buffer.alloc(70_000, 7) },
  { name: 'link', type: 'symlink', linkname: '/dir/file' },
  { name: 'hard', type: 'hardlink', linkname: 'dir/file' },
  { name: 'tty', type: 'char', devmajor: 5, devminor: 0, mode: 0o666 },
  { name: 'sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660 },
  { name: 'pipe', type: 'fifo', mode: 0o600 },
  { name: long, data: 'long name' },
  { name: 'longlink', type: 'symlink', linkname: long },
  { name: 'ünïcödé', data: 'utf8' },
];

test('entries, types, modes, owners and content read back as written, whatever the chunking', () => {
  const archive = tarOf(varied);
  const whole = readAll(archive);
  assert.equal(whole.length, varied.length);
  for (const size of [1, 7, 511, 512, 513, 4096, 65536]) {
    assert.deepEqual(readAll(archive, size), whole, `chunk size ${size}`);
  }
  const byName = new Map(whole.map((r) => [Buffer.from(r.entry.path, 'latin1').toString('utf8'), r]));
  const dir = byName.get('dir')?.entry;
  assert.equal(dir?.type, 'dir');
  assert.equal(dir?.mode, 0o1755);
  assert.deepEqual([dir?.uid, dir?.gid, dir?.uname, dir?.gname], [1000, 1001, 'u', 'g']);
  assert.deepEqual(dir?.mtime, { sec: 1_500_000_000, nsec: 0 });
  assert.equal(byName.get('dir/file')?.data.toString(), 'hello world\n');
  assert.equal(byName.get('dir/file')?.entry.mode, 0o4755);
  assert.equal(byName.get('dir/big')?.data.length, 70_000);
  assert.equal(byName.get('link')?.entry.linkname, '/dir/file');
  assert.equal(byName.get('hard')?.entry.type, 'hardlink');
  assert.deepEqual([byName.get('tty')?.entry.devmajor, byName.get('tty')?.entry.devminor], [5, 0]);
  assert.equal(byName.get('sda')?.entry.type, 'block');
  assert.equal(byName.get('pipe')?.entry.type, 'fifo');
  assert.equal(byName.get(long)?.data.toString(), 'long name');
  assert.equal(byName.get('longlink')?.entry.linkname, long);
  assert.equal(byName.get('ünïcödé')?.data.toString(), 'utf8');
});

test('the reader agrees with node-tar on every field both read', async () => {
  const archive = tarOf(varied);
  const theirs: { path: string; type: string; mode: number; uid: number; gid: number; size: number; linkpath: string; mtime: number }[] = [];
  const parser = new Parser();
  parser.on('entry', (e: ReadEntry) => {
    theirs.push({
      path: e.path.replace(/\/$/, ''),
      type: e.type,
      mode: (e.mode ?? 0) & 0o7777,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: e.size,
      linkpath: e.linkpath ?? '',
      mtime: (e.mtime?.getTime() ?? 0) / 1000,
    });
    e.resume();
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(archive);
  });
  const typeName: Record<string, string> = {
    file: 'File',
    dir: 'Directory',
    symlink: 'SymbolicLink',
    hardlink: 'Link',
    char: 'CharacterDevice',
    block: 'BlockDevice',
    fifo: 'FIFO',
  };
  const ours = readAll(archive).map(({ entry: e }) => ({
    path: Buffer.from(e.path, 'latin1').toString('utf8'),
    type: typeName[e.type] ?? e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    linkpath: Buffer.from(e.linkname, 'latin1').toString('utf8'),
    mtime: e.mtime.sec,
  }));
  assert.deepEqual(ours, theirs);
});

test('binary xattr values and non-UTF-8 names survive byte for byte', () => {
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
  const name = Buffer.from([0x66, 0xff, 0xfe, 0x80]);
  const [r] = readAll(tarOf([{ name, data: 'x', xattrs: { 'security.capability': cap, 'user.text': 'v=1\n' } }]));
  assert.ok(r);
  assert.deepEqual(Buffer.from(r.entry.path, 'latin1'), name);
  assert.deepEqual(r.entry.xattrs?.get('security.capability'), cap);
  assert.deepEqual(r.entry.xattrs?.get('user.text'), Buffer.from('v=1\n'));
});

test('GNU long names and links, base-256 ids, fractional and negative PAX times', () => {
  const longName = 'x/'.repeat(80) + 'file';
  const rs = readAll(
    tarOf([
      { name: longName, data: 'g', longNames: 'gnu', uid: 0o77777777 + 1, gid: 2 ** 40 },
      { name: 'sym', type: 'symlink', linkname: 'y/'.repeat(70), longNames: 'gnu' },
      { name: 'frac', mtime: { sec: 1_600_000_000, nsec: 123_456_789 }, atime: { sec: 5, nsec: 500_000_000 } },
      { name: 'neg', pax: { mtime: '-1.25' } },
    ]),
  );
  assert.equal(rs[0]?.entry.path, longName);
  assert.equal(rs[0]?.entry.uid, 0o77777777 + 1);
  assert.equal(rs[0]?.entry.gid, 2 ** 40);
  assert.equal(rs[1]?.entry.linkname, 'y/'.repeat(70));
  assert.deepEqual(rs[2]?.entry.mtime, { sec: 1_600_000_000, nsec: 123_456_789 });
  assert.deepEqual(rs[2]?.entry.atime, { sec: 5, nsec: 500_000_000 });
  assert.deepEqual(rs[3]?.entry.mtime, { sec: -2, nsec: 750_000_000 });
});

test('PAX global records apply to later entries; a local empty record unsets one', () => {
  const global = Buffer.concat([
    header({ name: Buffer.from('g'), typeflag: 'g', mode: 0, uid: 0, gid: 0, size: 12, mtime: 0, linkname: Buffer.alloc(0), uname: '', gname: '', devmajor: 0, devminor: 0 }),
    Buffer.concat([Buffer.from('12 uid=4242\n'), Buffer.alloc(500)]),
  ]);
  const archive = Buffer.concat([global, encodeEntry({ name: 'a' }), encodeEntry({ name: 'b', uid: 7, pax: { uid: '' } }), TAR_END]);
  const rs = readAll(archive);
  assert.equal(rs[0]?.entry.uid, 4242);
  assert.equal(rs[1]?.entry.uid, 7);
});

function assertTarError(archive: Buffer, code: string, pattern: RegExp): void {
  assert.throws(
    () => readAll(archive),
    (err: unknown) => isBerthError(err, code) && pattern.test(err.message) && err.message.includes('layer sha256:test'),
  );
}

test('truncated archives, bad checksums, sparse files and oversized metadata are refused by name', () => {
  const archive = tarOf([{ name: 'f', data: 'x'.repeat(1000) }]);
  assertTarError(archive.subarray(0, 700), 'tar_invalid', /truncated at byte 700/);
  const bad = Buffer.from(archive);
  bad[0] = 0x67;
  assertTarError(bad, 'tar_invalid', /invalid header checksum at byte 0/);
  const sparse = header({ name: Buffer.from('sp'), typeflag: 'S', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: Buffer.alloc(0), uname: '', gname: '', devmajor: 0, devminor: 0 });
  assertTarError(Buffer.concat([sparse, TAR_END]), 'tar_sparse', /entry "sp": GNU sparse/);
  const huge = header({ name: Buffer.from('p'), typeflag: 'x', mode: 0, uid: 0, gid: 0, size: 2 ** 30, mtime: 0, linkname: Buffer.alloc(0), uname: '', gname: '', devmajor: 0, devminor: 0 });
  assertTarError(Buffer.concat([huge, TAR_END]), 'tar_invalid', /metadata record of 1073741824 bytes/);
  assertTarError(tarOf([{ name: 'm', pax: { mtime: 'soon' } }]), 'tar_invalid', /invalid mtime "soon"/);
});

test('an archive may end without its zero blocks; bytes after them are ignored', () => {
  const one = encodeEntry({ name: 'a', data: 'x' });
  assert.equal(readAll(one).length, 1);
  assert.equal(readAll(Buffer.concat([one, TAR_END, Buffer.alloc(4096, 0xaa)])).length, 1);
});
