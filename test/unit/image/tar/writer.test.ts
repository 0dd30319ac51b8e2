import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import type { TarEntry } from '../../../../src/image/unpack/entry.ts';
import { TarReader } from '../../../../src/image/tar/reader.ts';
import { paxRecord, TAR_END, tarHeader, tarStream, type TarMember } from '../../../../src/image/tar/writer.ts';

/** What berth's own reader (and so unpack) sees in an archive. */
function readBack(archive: Buffer): { entry: TarEntry; data: Buffer }[] {
  const out: { entry: TarEntry; data: Buffer }[] = [];
  let parts: Buffer[] = [];
  const reader = new TarReader({ entry: () => (parts = []), data: (c) => parts.push(Buffer.from(c)), entryEnd: (entry) => out.push({ entry, data: Buffer.concat(parts) }) }, 'writer test');
  reader.push(archive);
  reader.end();
  return out;
}

const write = (members: TarMember[]): Promise<Buffer> => buffer(tarStream(members));

test('a PAX record counts its own digits, also when they carry over', () => {
  assert.equal(paxRecord('path', Buffer.from('abc')).toString('latin1'), '12 path=abc\n');
  // " k=" + 94 bytes + "\n" is 98 bytes; with 2 digits 100, which has 3: the record is 101 bytes.
  const rec = paxRecord('k', Buffer.alloc(94, 'x'));
  assert.equal(rec.length, Number(rec.toString('latin1').split(' ')[0]));
  assert.equal(rec.length, 101);
});

test('entries read back as written: types, modes, ids, names, times, devices, contents', async () => {
  const archive = await write([
    { header: { name: 'etc/', type: 'dir', mode: 0o755, mtime: 1_700_000_000 } },
    { header: { name: 'etc/motd', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, uname: 'app', gname: 'staff', mtime: 1_700_000_001 }, data: Buffer.from('hi\n') },
    { header: { name: 'bin/sh', type: 'file', mode: 0o755, size: 70_000 }, data: () => [Buffer.alloc(65_536, 1), Buffer.alloc(70_000 - 65_536, 2)] },
    { header: { name: 'sh', type: 'symlink', mode: 0o777, linkname: 'bin/sh' } },
    { header: { name: 'sh2', type: 'hardlink', mode: 0o755, linkname: 'bin/sh' } },
    { header: { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
    { header: { name: 'fifo', type: 'fifo', mode: 0o600 } },
  ]);
  assert.ok(archive.subarray(-1024).equals(TAR_END));
  assert.equal(archive.length % 512, 0);
  const got = readBack(archive);
  assert.deepEqual(got.map((r) => [r.entry.path, r.entry.type, r.entry.mode, r.data.length]), [
    ['etc', 'dir', 0o755, 0],
    ['etc/motd', 'file', 0o4755, 3],
    ['bin/sh', 'file', 0o755, 70_000],
    ['sh', 'symlink', 0o777, 0],
    ['sh2', 'hardlink', 0o755, 0],
    ['dev/null', 'char', 0o666, 0],
    ['fifo', 'fifo', 0o600, 0],
  ]);
  const motd = got[1]?.entry;
  assert.deepEqual([motd?.uid, motd?.gid, motd?.uname, motd?.gname, motd?.mtime.sec], [1000, 1001, 'app', 'staff', 1_700_000_001]);
  assert.equal(got[1]?.data.toString(), 'hi\n');
  assert.equal(got[2]?.data.subarray(65_535, 65_537).toString('hex'), '0102');
  assert.equal(got[3]?.entry.linkname, 'bin/sh');
  assert.deepEqual([got[5]?.entry.devmajor, got[5]?.entry.devminor], [1, 3]);
});

test('what ustar cannot hold goes in PAX: long names and links (binary), large ids, xattrs byte for byte', async () => {
  const longName = `${'a'.repeat(120)}/\xe9t\xe9/${'b'.repeat(80)}`;
  const longDir = `${'d'.repeat(150)}/`;
  const caps = Buffer.from('0100000201000000000000000000000000000000', 'hex');
  const archive = await write([
    { header: { name: longDir, type: 'dir', mode: 0o755 } },
    { header: { name: longName, type: 'file', mode: 0o644, uid: 3_000_000, gid: 4_000_000, xattrs: new Map([['user.z', Buffer.from('last')], ['security.capability', caps]]) }, data: Buffer.from('x') },
    { header: { name: 'l', type: 'symlink', mode: 0o777, linkname: 'c'.repeat(300) } },
  ]);
  const got = readBack(archive);
  assert.deepEqual(got.map((r) => r.entry.path), [longDir.slice(0, -1), longName, 'l'], 'the reader drops a directory\'s trailing "/"');
  assert.equal(got[0]?.entry.type, 'dir');
  const file = got[1]?.entry;
  assert.deepEqual([file?.uid, file?.gid], [3_000_000, 4_000_000]);
  assert.deepEqual([...(file?.xattrs?.keys() ?? [])], ['security.capability', 'user.z'], 'sorted, so the same tree gives the same bytes');
  assert.ok(file?.xattrs?.get('security.capability')?.equals(caps));
  assert.equal(got[2]?.entry.linkname, 'c'.repeat(300));
  // The ustar name field of a PAX'd entry keeps the entry's kind: a directory's ends in "/".
  const pax = tarHeader({ name: longDir, type: 'dir', mode: 0o755 });
  assert.equal(pax.toString('latin1', 156, 157), 'x');
  const mainAt = pax.length - 512;
  assert.ok(pax.toString('latin1', mainAt, mainAt + 100).replace(/\0+$/, '').endsWith('/'));
});

test('the same members give the same bytes', async () => {
  const members = (): TarMember[] => [
    { header: { name: 'x'.repeat(200), type: 'file', mode: 0o644, mtime: 5, xattrs: new Map([['user.b', Buffer.from('2')], ['user.a', Buffer.from('1')]]) }, data: Buffer.from('same') },
  ];
  assert.ok((await write(members())).equals(await write(members())));
});

test('content that is not the size the header says fails the archive', async () => {
  const member = (chunks: number[]): TarMember => ({ header: { name: 'f', type: 'file', mode: 0o644, size: 4 }, data: () => Promise.resolve(chunks.map((n) => Buffer.alloc(n))) });
  await assert.rejects(write([member([3, 2])]), (err: unknown) => isBerthError(err, 'tar_size_mismatch') && /content longer than its size 4/.test(err.message));
  await assert.rejects(write([member([3])]), (err: unknown) => isBerthError(err, 'tar_size_mismatch') && /content is 3 bytes, header says 4/.test(err.message));
  await assert.rejects(write([{ header: { name: 'f', type: 'file', mode: 0o644, size: 4 } }]), (err: unknown) => isBerthError(err, 'tar_no_content'));
});
