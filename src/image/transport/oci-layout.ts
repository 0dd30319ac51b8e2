/**
 * OCI image layouts: `oci:DIR[:REF]` and, through a FileSet over an archive,
 * `oci-archive:FILE[:REF]`. REF is the `org.opencontainers.image.ref.name`
 * annotation of an index.json entry, as skopeo and umoci use it. Writing
 * puts each blob under blobs/sha256 only after its digest is verified, and
 * replaces index.json atomically.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { cleanupAfterSync, failedPrecondition, invalidArgument, isBerthError, notFound } from '../../errors.ts';
import { MediaType, type Descriptor, type Index } from '../../oci/image-spec.ts';
import { digestOf, parseDigest } from '../store/digest.ts';
import { detectMediaType, parseIndex, parseJson } from '../store/manifest.ts';
import { DirFileSet, type FileSet } from './files.ts';
import { LayoutDir } from './layout-dir.ts';
import { checkDeclaredSize, MAX_MANIFEST_BYTES } from '../limits.ts';
import type { BlobOpener, BlobStream, CommitInput, CommitResult, ImageDestination, ImageSource, ManifestBlob, PutBlobContext } from './types.ts';

export const REF_NAME = 'org.opencontainers.image.ref.name';

function blobName(digest: string): string {
  return `blobs/sha256/${parseDigest(digest).hex}`;
}

export class OciLayoutSource implements ImageSource {
  readonly name: string;
  private readonly files: FileSet;
  private readonly ref: string | undefined;

  constructor(files: FileSet, ref: string | undefined, name: string) {
    this.files = files;
    this.ref = ref;
    this.name = name;
  }

  private async readIndex(): Promise<Index> {
    return parseIndex(await this.files.read('index.json', MAX_MANIFEST_BYTES), `${this.name}: index.json`);
  }

  private async entry(): Promise<Descriptor> {
    const index = await this.readIndex();
    if (this.ref === undefined || this.ref === '') {
      const only = index.manifests[0];
      if (index.manifests.length !== 1 || only === undefined) {
        throw invalidArgument('oci_ref_required', `${this.name}: index.json has ${index.manifests.length} images; name one as ${this.name}:REF`);
      }
      return only;
    }
    const found = index.manifests.find((m) => m.annotations?.[REF_NAME] === this.ref);
    if (found === undefined) throw notFound('image_not_found', `${this.name}: no image named "${this.ref}" in index.json`);
    return found;
  }

  async topManifest(): Promise<ManifestBlob> {
    const e = await this.entry();
    checkDeclaredSize(`${this.name}: manifest ${e.digest}`, e.size, MAX_MANIFEST_BYTES);
    const m = await this.manifestByDigest(e.digest);
    return { ...m, mediaType: e.mediaType === '' ? m.mediaType : e.mediaType };
  }

  async manifestByDigest(digest: string): Promise<ManifestBlob> {
    const bytes = await this.files.read(blobName(digest), MAX_MANIFEST_BYTES);
    if (digestOf(bytes) !== digest) throw failedPrecondition('blob_digest_mismatch', `${this.name}: manifest ${digest}: content has digest ${digestOf(bytes)}`);
    const mediaType = detectMediaType(parseJson(bytes, `${this.name}: manifest ${digest}`)) ?? MediaType.OciManifest;
    return { bytes, mediaType, digest };
  }

  async blob(desc: Descriptor, offset = 0): Promise<BlobStream> {
    const name = blobName(desc.digest);
    if ((await this.files.size(name)) === undefined) throw notFound('blob_not_found', `${this.name}: blob ${desc.digest}: missing`);
    return { stream: this.files.open(name, offset), offset };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class OciLayoutDestination implements ImageDestination {
  readonly name: string;
  readonly acceptsDockerManifests = false;
  readonly dir: string;
  private readonly ref: string | undefined;
  /** The layout may exist already, links and all: writes stay beneath it. */
  private readonly layout: LayoutDir;

  constructor(dir: string, ref: string | undefined, name: string) {
    this.dir = dir;
    this.ref = ref;
    this.name = name;
    this.layout = new LayoutDir(dir, name);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.layout.mkdirs('blobs/sha256');
    this.layout.writeFile('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return (await new DirFileSet(this.dir).size(blobName(desc.digest))) === desc.size;
  }

  async putBlob(desc: Descriptor, openBlob: BlobOpener, ctx: PutBlobContext): Promise<void> {
    const { stream } = await openBlob(0);
    await this.writeBlobFrom(desc.digest, desc.size, stream, ctx.onBytes);
  }

  /** Writes to a temp file beside the blobs, verifies, then renames into place. */
  async writeBlobFrom(digest: string, size: number | undefined, source: AsyncIterable<unknown> | Iterable<unknown>, onBytes?: (n: number) => void): Promise<void> {
    const f = this.layout.create(blobName(digest));
    const hash = createHash('sha256');
    let total = 0;
    try {
      for await (const chunk of source) {
        const b = chunk as Buffer;
        hash.update(b);
        total += b.byteLength;
        f.write(b);
        onBytes?.(b.byteLength);
      }
    } catch (err) {
      cleanupAfterSync(err, () => f.discard());
      throw err;
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest || (size !== undefined && total !== size)) {
      f.discard();
      throw failedPrecondition('blob_digest_mismatch', `${this.name}: blob ${digest}: content has digest ${got} and ${total} bytes`);
    }
    f.commit();
  }

  async putManifest(m: ManifestBlob): Promise<void> {
    await this.writeBlobFrom(m.digest, m.bytes.byteLength, [m.bytes]);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const m = input.manifest;
    await this.writeBlobFrom(m.digest, m.bytes.byteLength, [m.bytes]);
    let index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    try {
      index = parseIndex(await new DirFileSet(this.dir).read('index.json', MAX_MANIFEST_BYTES), `${this.name}: index.json`);
    } catch (err) {
      if (!isBerthError(err, 'image_file_not_found')) throw err;
    }
    const entry: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.byteLength };
    if (this.ref !== undefined && this.ref !== '') {
      entry.annotations = { [REF_NAME]: this.ref };
      index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== this.ref);
    } else {
      index.manifests = index.manifests.filter((d) => d.digest !== m.digest);
    }
    index.manifests.push(entry);
    this.layout.writeFile('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index.manifests, ...(index.annotations === undefined ? {} : { annotations: index.annotations }) }));
    return { manifestDigest: m.digest };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
