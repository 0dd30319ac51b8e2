import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../../../../src/errors.ts';
import { MediaType } from '../../../../src/oci/image-spec.ts';
import { dockerToOci } from '../../../../src/image/copy/convert.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';
import { decompressed, detectCompression } from '../../../../src/image/transport/compression.ts';
import { openDockerArchiveSource } from '../../../../src/image/transport/archive.ts';
import { DirFileSet } from '../../../../src/image/transport/files.ts';
import { OciLayoutSource } from '../../../../src/image/transport/oci-layout.ts';
import { formatTransport, parseTransport } from '../../../../src/image/transport/parse.ts';
import { ArchiveIndex, cleanMemberName } from '../../../../src/image/transport/tar-index.ts';
import { tarHeader, tarStream, type TarMember } from '../../../../src/image/tar/writer.ts';
import { TarReader } from '../../../../src/image/tar/reader.ts';
import type { TarEntry } from '../../../../src/image/unpack/entry.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

test('transport names parse as skopeo spells them', () => {
  const cases: [string, string][] = [
    ['docker://127.0.0.1:5000/a/b:v1', 'docker://127.0.0.1:5000/a/b:v1'],
    ['oci:/tmp/layout:v1', 'oci:/tmp/layout:v1'],
    ['oci:/tmp/layout', 'oci:/tmp/layout'],
    ['oci-archive:/tmp/x.tar:latest', 'oci-archive:/tmp/x.tar:latest'],
    ['docker-archive:/tmp/x.tar:app:v1', 'docker-archive:/tmp/x.tar:app:v1'],
    ['berth:app:v1', 'berth:app:v1'],
    ['containers-storage:app', 'berth:app'],
    ['app:v1', 'berth:app:v1'],
    ['127.0.0.1:5000/app', 'berth:127.0.0.1:5000/app'],
  ];
  for (const [input, want] of cases) assert.equal(formatTransport(parseTransport(input)), want, input);
  assert.deepEqual(parseTransport('docker-archive:/tmp/x.tar:app:v1'), { transport: 'docker-archive', path: '/tmp/x.tar', ref: 'app:v1' });
  assert.throws(() => parseTransport('oci:'), (err) => isBerthError(err, 'invalid_transport'));
  assert.throws(() => parseTransport('dir:/tmp/x'), (err) => isBerthError(err, 'unsupported_transport'));
  assert.throws(() => parseTransport('docker://UPPER/x/Y'), (err) => isBerthError(err, 'invalid_reference'));
});

function readEntries(buf: Buffer): { entries: TarEntry[]; data: Map<string, Buffer> } {
  const entries: TarEntry[] = [];
  const data = new Map<string, Buffer>();
  let current = '';
  const reader = new TarReader(
    {
      entry: (e) => {
        entries.push(e);
        current = e.path;
        data.set(current, Buffer.alloc(0));
      },
      data: (c) => data.set(current, Buffer.concat([data.get(current) ?? Buffer.alloc(0), c])),
      entryEnd: () => undefined,
    },
    'test',
  );
  reader.push(buf);
  reader.end();
  return { entries, data };
}

test('the tar writer produces what the tar reader reads back: long names, links, large ids', async () => {
  const long = `${'dir/'.repeat(40)}file.txt`;
  const chunks: Buffer[] = [];
  const members: TarMember[] = [
    { header: { name: 'etc/', type: 'dir', mode: 0o755, mtime: 1_700_000_000 } },
    { header: { name: 'etc/passwd', type: 'file', mode: 0o644, uid: 3_000_000, gid: 7 }, data: Buffer.from('root:x:0:0\n') },
    { header: { name: long, type: 'file', mode: 0o600, size: 12 }, data: () => Promise.resolve([Buffer.from('long '), Buffer.from('content')]) },
    { header: { name: 'bin/sh', type: 'symlink', mode: 0o777, linkname: `/${'x'.repeat(150)}` } },
    { header: { name: 'etc/passwd-link', type: 'hardlink', mode: 0o644, linkname: 'etc/passwd' } },
    { header: { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
  ];
  for await (const c of tarStream(members)) chunks.push(c as Buffer);
  const { entries, data } = readEntries(Buffer.concat(chunks));
  assert.deepEqual(entries.map((e) => [e.path, e.type]), [['etc', 'dir'], ['etc/passwd', 'file'], [long, 'file'], ['bin/sh', 'symlink'], ['etc/passwd-link', 'hardlink'], ['dev/null', 'char']]);
  assert.equal(entries[0]?.mtime.sec, 1_700_000_000);
  assert.equal(entries[1]?.uid, 3_000_000);
  assert.equal(data.get(long)?.toString(), 'long content');
  assert.equal(entries[3]?.linkname, `/${'x'.repeat(150)}`);
  assert.equal(entries[5]?.devminor, 3);
  assert.equal(tarHeader({ name: 'a', type: 'file', mode: 0o644 }).length, 512);
});

test('a member whose stream is longer or shorter than its header says fails the archive', async () => {
  const consume = async (n: number): Promise<void> => {
    for await (const _ of tarStream([{ header: { name: 'f', type: 'file', mode: 0o644, size: 4 }, data: () => Promise.resolve([Buffer.alloc(n)]) }])) {
      // draining
    }
  };
  await assert.rejects(consume(5), /longer than its size 4/);
  await assert.rejects(consume(3), /is 3 bytes, header says 4/);
});

test('an archive index reads members by offset and never resolves names that climb out', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.tar');
  await pipeline(
    tarStream([
      { header: { name: './manifest.json', type: 'file', mode: 0o644 }, data: Buffer.from('[{"x":1}]') },
      { header: { name: 'blobs/sha256/abc', type: 'file', mode: 0o644 }, data: Buffer.alloc(70_000, 9) },
      { header: { name: '../escape', type: 'file', mode: 0o644 }, data: Buffer.from('no') },
    ]),
    createWriteStream(file),
  );
  const index = await ArchiveIndex.open(file);
  assert.equal(index.smallFile('manifest.json').toString(), '[{"x":1}]');
  assert.equal(index.member('blobs/sha256/abc').size, 70_000);
  const chunks: Buffer[] = [];
  for await (const c of index.open('blobs/sha256/abc', 69_990)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), Buffer.alloc(10, 9));
  assert.equal(index.has('../escape'), false);
  assert.equal(index.has('escape'), false);
  assert.throws(() => index.member('nope'), (err) => isBerthError(err, 'archive_member_not_found'));
  assert.equal(cleanMemberName('a/../../b'), undefined);
  assert.equal(cleanMemberName('./a//b/'), 'a/b');
  writeFileSync(join(dir, 'bad.tar'), Buffer.alloc(700, 1));
  await assert.rejects(ArchiveIndex.open(join(dir, 'bad.tar')), /checksum/);
});

test('compression is recognised by magic bytes and undone', async () => {
  const plain = Buffer.from('layer bytes '.repeat(100));
  assert.equal(detectCompression(gzipSync(plain)), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.equal(detectCompression(plain), 'none');
  for (const input of [gzipSync(plain), plain]) {
    const out: Buffer[] = [];
    for await (const c of await decompressed(Readable.from([input.subarray(0, 5), input.subarray(5)]))) out.push(c as Buffer);
    assert.deepEqual(Buffer.concat(out), plain);
  }
});

test('Docker manifests convert to OCI ones with only media types changed', () => {
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: digestOf('c'), size: 1 },
    layers: [{ mediaType: MediaType.DockerLayerGzip, digest: digestOf('l'), size: 2 }],
  };
  const oci = dockerToOci(manifest);
  const doc = JSON.parse(oci.bytes.toString()) as typeof manifest;
  assert.equal(oci.mediaType, MediaType.OciManifest);
  assert.equal(doc.config.mediaType, MediaType.OciConfig);
  assert.equal(doc.config.digest, digestOf('c'));
  assert.equal(doc.layers[0]?.mediaType, MediaType.OciLayerGzip);
  assert.equal(oci.digest, digestOf(oci.bytes));
});

test('hostile archives and layouts: names that climb out and digests that are paths are refused', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'secret.json'), '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const archive = join(dir, 'inner', 'evil.tar');
  mkdirSync(join(dir, 'inner'));
  await pipeline(
    tarStream([{ header: { name: 'manifest.json', type: 'file', mode: 0o644 }, data: Buffer.from(JSON.stringify([{ Config: '../secret.json', RepoTags: [], Layers: [] }])) }]),
    createWriteStream(archive),
  );
  const src = await openDockerArchiveSource(archive, undefined);
  await assert.rejects(src.topManifest(), (err) => isBerthError(err, 'path_escapes') && err.message.includes('../secret.json'));

  const layout = join(dir, 'layout');
  mkdirSync(layout);
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: 'sha256:../../secret.json', size: 1 }] }));
  const oci = new OciLayoutSource(new DirFileSet(layout), undefined, `oci:${layout}`);
  await assert.rejects(oci.topManifest(), (err) => isBerthError(err, 'invalid_digest'));
});
