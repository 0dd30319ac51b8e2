import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { describeError, isBerthError } from '../../../../src/errors.ts';
import { MediaType } from '../../../../src/oci/image-spec.ts';
import { readConfigBlob, resolveImage } from '../../../../src/image/copy/copy.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';
import { openDockerArchiveSource } from '../../../../src/image/transport/archive.ts';
import { DirFileSet } from '../../../../src/image/transport/files.ts';
import { OciLayoutDestination, OciLayoutSource } from '../../../../src/image/transport/oci-layout.ts';
import { ArchiveIndex } from '../../../../src/image/transport/tar-index.ts';
import { tarStream } from '../../../../src/image/tar/writer.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

const SECRET = 'root:$y$j9T$SECRET-HASH-never-shown:19700:0:99999:7:::\n';
const MiB = 1024 * 1024;

interface Layout {
  dir: string;
  /** Writes a blob (unless `as` names where it goes instead) and returns its descriptor. */
  blob(content: string | Buffer, mediaType: string, as?: string): { mediaType: string; digest: string; size: number };
  index(manifests: { mediaType: string; digest: string; size: number }[]): void;
}

function layout(dir: string): Layout {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return {
    dir,
    blob(content, mediaType, as) {
      const digest = digestOf(content);
      writeFileSync(as ?? join(dir, 'blobs', 'sha256', digest.slice(7)), content);
      return { mediaType, digest, size: Buffer.byteLength(content) };
    },
    index(manifests) {
      writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
    },
  };
}

function source(dir: string): OciLayoutSource {
  return new OciLayoutSource(new DirFileSet(dir), undefined, `oci:${dir}`);
}

const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });

test('oci layout index.json linked to /etc/shadow: the link out of the layout is refused and no error quotes the file', async (t) => {
  const dir = tempDir(t);
  const shadow = join(dir, 'shadow');
  writeFileSync(shadow, SECRET);
  const l = layout(join(dir, 'layout'));
  const quotesNothing = (err: unknown): boolean => !describeError(err).includes('SECRET') && !describeError(err).includes('root:');

  for (const target of [shadow, '../shadow']) {
    symlinkSync(target, join(l.dir, 'index.json'));
    await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'path_escapes') && /"index\.json" is a symlink that leads out/.test(describeError(err)) && quotesNothing(err), target);
    await assert.rejects(resolveImage(source(l.dir)), (err) => quotesNothing(err), target);
    rmSync(join(l.dir, 'index.json'));
  }

  // A file inside the layout that is not JSON: named, not quoted.
  writeFileSync(join(l.dir, 'index.json'), SECRET);
  await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'invalid_json') && quotesNothing(err));

  // A blob linked out of the layout is refused even when its content has the right digest.
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length }, layers: [] });
  const m = l.blob(manifest, MediaType.OciManifest, join(dir, 'manifest-outside'));
  const blobPath = join(l.dir, 'blobs', 'sha256', m.digest.slice(7));
  symlinkSync(join(dir, 'manifest-outside'), blobPath);
  l.index([m]);
  await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'path_escapes'));

  // Links that stay inside the layout still work.
  rmSync(blobPath);
  l.blob(manifest, MediaType.OciManifest, join(l.dir, 'manifest-inside'));
  symlinkSync('../../manifest-inside', blobPath);
  writeFileSync(join(l.dir, 'index-real.json'), JSON.stringify({ schemaVersion: 2, manifests: [m] }));
  rmSync(join(l.dir, 'index.json'));
  symlinkSync('index-real.json', join(l.dir, 'index.json'));
  assert.equal((await source(l.dir).topManifest()).digest, m.digest);
});

test('unbounded memory from an oci layout: index.json, manifests and configs over 4 MiB are refused on their size, and a config is never read past its declared size', async (t) => {
  const dir = tempDir(t);
  const l = layout(join(dir, 'layout'));
  const big = Buffer.alloc(4 * MiB + 1, 0x20);

  writeFileSync(join(l.dir, 'index.json'), big);
  await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'too_large') && /index\.json: 4\.0 MiB, over the limit of 4 MiB/.test(err.message));

  // A manifest the index declares over the cap is not opened (it does not even exist here).
  l.index([{ mediaType: MediaType.OciManifest, digest: digestOf('absent'), size: 5 * MiB }]);
  await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'too_large'));
  const hugeManifest = l.blob(big, MediaType.OciManifest);
  l.index([{ ...hugeManifest, size: 10 }]);
  await assert.rejects(source(l.dir).topManifest(), (err) => isBerthError(err, 'too_large'), 'the file itself is over the cap whatever the index says');

  // The 1.5 GiB config of the report: refused by its descriptor, before any byte is read.
  const src = source(l.dir);
  await assert.rejects(readConfigBlob(src, { mediaType: MediaType.OciConfig, digest: digestOf('absent'), size: 1536 * MiB }), (err) => isBerthError(err, 'too_large') && /config sha256:[0-9a-f]{64}: 1\.5 GiB, over the limit of 4 MiB/.test(err.message));
  // A config longer than its descriptor says is cut off at the declared size.
  const long = l.blob(`${config}${' '.repeat(MiB)}`, MediaType.OciConfig);
  await assert.rejects(readConfigBlob(src, { ...long, size: config.length }), (err) => isBerthError(err, 'blob_size_mismatch') && /more than the \d+ bytes declared/.test(err.message));
  const ok = l.blob(config, MediaType.OciConfig);
  assert.equal((await readConfigBlob(src, ok)).toString(), config);
});

test('unbounded memory from a docker archive: manifest.json and a config over 4 MiB are refused; indexing holds only the top-level index files', async (t) => {
  const dir = tempDir(t);
  const big = Buffer.alloc(4 * MiB + 1, 0x20);
  const archive = async (name: string, members: Record<string, Buffer>): Promise<string> => {
    const file = join(dir, name);
    await pipeline(tarStream(Object.entries(members).map(([n, data]) => ({ header: { name: n, type: 'file' as const, mode: 0o644 }, data }))), createWriteStream(file));
    return file;
  };
  const bigManifest = await archive('a.tar', { 'manifest.json': big });
  await assert.rejects((await openDockerArchiveSource(bigManifest, undefined)).topManifest(), (err) => isBerthError(err, 'too_large') && /manifest\.json/.test(err.message));
  const bigConfig = await archive('b.tar', { 'manifest.json': Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [] }])), 'c.json': big });
  await assert.rejects((await openDockerArchiveSource(bigConfig, undefined)).topManifest(), (err) => isBerthError(err, 'too_large') && /c\.json/.test(err.message));
  // Indexing keeps only the archive's own top-level files in memory, not every small member.
  const many = await archive('c.tar', { 'manifest.json': Buffer.from('[]'), 'x.json': Buffer.from('{}'), 'sub/index.json': Buffer.from('{}') });
  const index = await ArchiveIndex.open(many);
  assert.equal(index.smallFile('manifest.json').toString(), '[]');
  for (const name of ['x.json', 'sub/index.json']) assert.throws(() => index.smallFile(name), (err) => isBerthError(err, 'archive_member_not_found'), name);
  // The same as a directory.
  const asDir = join(dir, 'dir');
  mkdirSync(asDir);
  writeFileSync(join(asDir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [] }]));
  writeFileSync(join(asDir, 'c.json'), big);
  await assert.rejects((await openDockerArchiveSource(asDir, undefined)).topManifest(), (err) => isBerthError(err, 'too_large'));
});

test('oci: destination with symlinks planted in the existing layout: nothing is written or trusted outside it, and the link is named', async (t) => {
  const dir = tempDir(t);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  const dest = (d: string): OciLayoutDestination => new OciLayoutDestination(d, 'v1', `oci:${d}`);

  // blobs linked out of the layout: refused before any blob is written there.
  const a = join(dir, 'a');
  mkdirSync(a);
  symlinkSync(outside, join(a, 'blobs'));
  await assert.rejects(dest(a).init(), (err) => isBerthError(err, 'path_escapes') && /"blobs" is a symlink that leads out/.test(describeError(err)));
  assert.deepEqual(readdirSync(outside), []);

  // A blob linked to a file outside with the right size is not taken as present.
  const b = join(dir, 'b');
  const l = layout(b);
  writeFileSync(join(outside, 'blob'), config);
  symlinkSync(join(outside, 'blob'), join(b, 'blobs', 'sha256', digestOf(config).slice(7)));
  await assert.rejects(dest(b).hasBlob({ mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length }), (err) => isBerthError(err, 'path_escapes'));

  // Temp names a planted link could guess (name.tmp-PID) are never written through.
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'untouched');
  for (const name of ['oci-layout', 'index.json']) symlinkSync(victim, join(l.dir, `${name}.tmp-${process.pid}`));
  const d = dest(l.dir);
  await d.init();
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length }, layers: [] }));
  await d.commit({ manifest: { bytes: manifest, mediaType: MediaType.OciManifest, digest: digestOf(manifest) } });
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.ok(readFileSync(join(l.dir, 'index.json'), 'utf8').includes(digestOf(manifest)));
  assert.equal(readFileSync(join(l.dir, 'blobs', 'sha256', digestOf(manifest).slice(7)), 'utf8'), manifest.toString());
});
