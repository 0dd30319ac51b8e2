/**
 * Archive transports: `oci-archive:FILE[:REF]` (an OCI layout in a tar) and
 * `docker-archive:FILE[:NAME:TAG|@N]` (the format of `docker save`:
 * manifest.json naming a config and uncompressed layer tars). Reading
 * indexes the archive once and reads members by offset; writing builds the
 * content in a temporary directory beside FILE and renames the finished
 * archive over it, so a failed save leaves no half-written file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { failedPrecondition, invalidArgument, notFound } from '../../errors.ts';
import { MediaType, type Descriptor } from '../../oci/image-spec.ts';
import { digestOf, parseDigest } from '../store/digest.ts';
import { parseImageConfig, parseJson, parseManifest } from '../store/manifest.ts';
import { formatReference, parseReference, withDefaultTag } from '../registry/reference.ts';
import { decompressed, detectCompression } from './compression.ts';
import { ArchiveFileSet, DirFileSet, type FileSet } from './files.ts';
import { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from '../limits.ts';
import { ArchiveIndex } from './tar-index.ts';
import { tarStream, type TarMember } from './tar-writer.ts';
import type { BlobOpener, BlobStream, CommitInput, CommitResult, ImageDestination, ImageSource, ManifestBlob, PutBlobContext } from './types.ts';

/** Writes the files of `dir` (flat or nested, sorted) as a tar at `file`, atomically. */
async function tarDirectory(dir: string, file: string): Promise<void> {
  const names: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        names.push(`${r}/`);
        await walk(r);
      } else if (e.isFile()) names.push(r);
    }
  };
  await walk('');
  async function* members(): AsyncGenerator<TarMember> {
    for (const n of names) {
      if (n.endsWith('/')) {
        yield { header: { name: n, type: 'dir', mode: 0o755 } };
        continue;
      }
      const size = (await stat(join(dir, n))).size;
      yield { header: { name: n, type: 'file', mode: 0o644, size }, data: () => Promise.resolve(createReadStream(join(dir, n), { highWaterMark: 1 << 20 })) };
    }
  }
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    await pipeline(tarStream(members()), createWriteStream(tmp, { mode: 0o644 }));
    const h = await open(tmp, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, file);
}

async function scratchDir(beside: string): Promise<string> {
  return mkdtemp(join(dirname(beside), `.${basename(beside)}.berth-`));
}

/** oci-archive: an OCI layout written in a scratch directory, tarred into FILE on commit. */
export class OciArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly acceptsDockerManifests = false;
  private readonly file: string;
  private readonly ref: string | undefined;
  private layout: OciLayoutDestination | undefined;
  private scratch: string | undefined;

  constructor(file: string, ref: string | undefined) {
    this.file = file;
    this.ref = ref;
    this.name = `oci-archive:${file}${ref === undefined ? '' : `:${ref}`}`;
  }

  private async dest(): Promise<OciLayoutDestination> {
    if (this.layout === undefined) {
      this.scratch = await scratchDir(this.file);
      this.layout = new OciLayoutDestination(this.scratch, this.ref, this.name);
      await this.layout.init();
    }
    return this.layout;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return (await this.dest()).hasBlob(desc);
  }

  async putBlob(desc: Descriptor, o: BlobOpener, ctx: PutBlobContext): Promise<void> {
    await (await this.dest()).putBlob(desc, o, ctx);
  }

  async putManifest(m: ManifestBlob): Promise<void> {
    await (await this.dest()).putManifest(m);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const d = await this.dest();
    const r = await d.commit(input);
    await tarDirectory(d.dir, this.file);
    return r;
  }

  async close(): Promise<void> {
    if (this.scratch !== undefined) await rm(this.scratch, { recursive: true, force: true });
  }
}

export async function openOciArchiveSource(file: string, ref: string | undefined): Promise<OciLayoutSource> {
  const index = await ArchiveIndex.open(file);
  return new OciLayoutSource(new ArchiveFileSet(index), ref, `oci-archive:${file}${ref === undefined ? '' : `:${ref}`}`);
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseDockerManifest(bytes: Buffer, label: string): DockerArchiveEntry[] {
  const doc = parseJson(bytes, `${label}: manifest.json`);
  if (!Array.isArray(doc)) throw invalidArgument('invalid_archive', `${label}: manifest.json is not an array`);
  return doc.map((e: unknown, i) => {
    const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const { Config, RepoTags, Layers } = r;
    if (typeof Config !== 'string') throw invalidArgument('invalid_archive', `${label}: manifest.json[${i}].Config is not a string`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string')) {
      throw invalidArgument('invalid_archive', `${label}: manifest.json[${i}].Layers is not a list of names`);
    }
    const tags = Array.isArray(RepoTags) ? RepoTags.filter((t): t is string => typeof t === 'string') : [];
    return { Config, RepoTags: tags, Layers };
  });
}

/** docker-archive as a source: the manifest is built from manifest.json, layers are members as they are. */
export class DockerArchiveSource implements ImageSource {
  readonly name: string;
  private readonly files: FileSet;
  private readonly selector: string | undefined;
  private built: { manifest: ManifestBlob; members: Map<string, string> } | undefined;

  constructor(files: FileSet, selector: string | undefined, name: string) {
    this.files = files;
    this.selector = selector;
    this.name = name;
  }

  private select(entries: DockerArchiveEntry[]): DockerArchiveEntry {
    const sel = this.selector;
    if (sel === undefined || sel === '') {
      if (entries.length !== 1 || entries[0] === undefined) {
        throw invalidArgument('archive_ref_required', `${this.name}: the archive has ${entries.length} images; name one as ${this.name}:NAME:TAG or :@N`);
      }
      return entries[0];
    }
    if (sel.startsWith('@')) {
      const e = entries[Number(sel.slice(1))];
      if (e === undefined) throw notFound('image_not_found', `${this.name}: no image number ${sel.slice(1)}`);
      return e;
    }
    const want = formatReference(withDefaultTag(parseReference(sel)));
    const e = entries.find((x) => x.RepoTags.some((t) => formatReference(withDefaultTag(parseReference(t))) === want));
    if (e === undefined) throw notFound('image_not_found', `${this.name}: no image tagged "${sel}"`);
    return e;
  }

  private async build(): Promise<{ manifest: ManifestBlob; members: Map<string, string> }> {
    if (this.built !== undefined) return this.built;
    const entry = this.select(parseDockerManifest(await this.files.read('manifest.json', MAX_MANIFEST_BYTES), this.name));
    const configBytes = await this.files.read(entry.Config, MAX_CONFIG_BYTES);
    const config = parseImageConfig(configBytes, `${this.name}: ${entry.Config}`);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw invalidArgument('layer_count_mismatch', `${this.name}: ${entry.Layers.length} layers but config has ${config.rootfs.diff_ids.length} diff_ids`);
    }
    const members = new Map<string, string>();
    const configDigest = digestOf(configBytes);
    members.set(configDigest, entry.Config);
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const size = await this.files.size(name);
      if (size === undefined) throw notFound('archive_member_not_found', `${this.name}: layer "${name}" is missing`);
      const head = await firstBytes(this.files, name);
      const kind = detectCompression(head);
      // An uncompressed layer's digest is its diffID; a compressed one has to be hashed.
      const digest = kind === 'none' ? (config.rootfs.diff_ids[i] ?? '') : await hashMember(this.files, name);
      members.set(digest, name);
      const mediaType = kind === 'none' ? MediaType.OciLayer : kind === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayerZstd;
      layers.push({ mediaType, digest, size });
    }
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.byteLength },
        layers,
      }),
    );
    this.built = { manifest: { bytes, mediaType: MediaType.OciManifest, digest: digestOf(bytes) }, members };
    return this.built;
  }

  async topManifest(): Promise<ManifestBlob> {
    return (await this.build()).manifest;
  }

  async manifestByDigest(digest: string): Promise<ManifestBlob> {
    const m = (await this.build()).manifest;
    if (m.digest !== digest) throw notFound('manifest_not_found', `${this.name}: no manifest ${digest}`);
    return m;
  }

  async blob(desc: Descriptor, offset = 0): Promise<BlobStream> {
    const name = (await this.build()).members.get(desc.digest);
    if (name === undefined) throw notFound('blob_not_found', `${this.name}: no blob ${desc.digest}`);
    return { stream: this.files.open(name, offset), offset };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function firstBytes(files: FileSet, name: string): Promise<Buffer> {
  for await (const chunk of files.open(name)) return (chunk as Buffer).subarray(0, 8);
  return Buffer.alloc(0);
}

async function hashMember(files: FileSet, name: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of files.open(name)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

export async function openDockerArchiveSource(file: string, selector: string | undefined): Promise<DockerArchiveSource> {
  const st = await stat(file).catch(() => undefined);
  if (st === undefined) throw notFound('archive_not_found', `docker-archive:${file}: no such file`);
  const files = st.isDirectory() ? new DirFileSet(file) : new ArchiveFileSet(await ArchiveIndex.open(file));
  return new DockerArchiveSource(files, selector, `docker-archive:${file}${selector === undefined ? '' : `:${selector}`}`);
}

/**
 * docker-archive as a destination: config as `<hex>.json`, each layer
 * decompressed to `<diffID hex>.tar` (verified against the diffID), and
 * manifest.json naming them with the tag, as `docker save` writes it.
 */
export class DockerArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly acceptsDockerManifests = true;
  private readonly file: string;
  private readonly tag: string | undefined;
  private scratch: string | undefined;

  constructor(file: string, tag: string | undefined) {
    this.file = file;
    this.tag = tag;
    this.name = `docker-archive:${file}${tag === undefined ? '' : `:${tag}`}`;
  }

  private async dir(): Promise<string> {
    this.scratch ??= await scratchDir(this.file);
    return this.scratch;
  }

  hasBlob(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async putBlob(desc: Descriptor, o: BlobOpener, ctx: PutBlobContext): Promise<void> {
    const dir = await this.dir();
    const { stream } = await o(0);
    if (ctx.diffId === undefined) {
      await writeVerified(join(dir, `${parseDigest(desc.digest).hex}.json`), desc.digest, stream, ctx.onBytes);
      return;
    }
    const counted = (async function* () {
      for await (const c of stream) {
        ctx.onBytes?.((c as Buffer).byteLength);
        yield c as Buffer;
      }
    })();
    await writeVerified(join(dir, `${parseDigest(ctx.diffId).hex}.tar`), ctx.diffId, await decompressed(counted));
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const dir = await this.dir();
    const manifest = parseManifest(input.manifest.bytes, `${this.name}: manifest`);
    const configHex = parseDigest(manifest.config.digest).hex;
    const config = parseImageConfig(await readFile(join(dir, `${configHex}.json`)), manifest.config.digest);
    const repoTags = this.tag === undefined ? [] : [this.tag];
    const doc = [{ Config: `${configHex}.json`, RepoTags: repoTags, Layers: config.rootfs.diff_ids.map((d) => `${parseDigest(d).hex}.tar`) }];
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(doc));
    await tarDirectory(dir, this.file);
    return { manifestDigest: input.manifest.digest };
  }

  async close(): Promise<void> {
    if (this.scratch !== undefined) await rm(this.scratch, { recursive: true, force: true });
  }
}

async function writeVerified(path: string, digest: string, source: AsyncIterable<unknown>, onBytes?: (n: number) => void): Promise<void> {
  const h = await open(path, 'wx', 0o644);
  const hash = createHash('sha256');
  try {
    for await (const chunk of source) {
      const b = chunk as Buffer;
      hash.update(b);
      await h.write(b);
      onBytes?.(b.byteLength);
    }
  } finally {
    await h.close();
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== digest) {
    await rm(path, { force: true });
    throw failedPrecondition('blob_digest_mismatch', `${basename(path)}: content has digest ${got}, expected ${digest}`);
  }
}
