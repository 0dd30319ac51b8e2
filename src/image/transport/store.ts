/**
 * The local store as a transport (`berth:NAME` or a bare name, as
 * `containers-storage:` is for podman). As a destination it writes blobs
 * through resumable ingests (an interrupted pull continues with a Range
 * request where the ingest file ends), holds them under a lease until the
 * image record names them, and records the image under its name.
 */
import type { Descriptor } from '../../oci/image-spec.ts';
import { isBerthError } from '../../errors.ts';
import { isTransient } from '../registry/retry.ts';
import type { ImageRecord, ImageStore } from '../store/store.ts';
import type { BlobOpener, BlobStream, CommitInput, CommitResult, ImageDestination, ImageSource, ManifestBlob, PutBlobContext } from './types.ts';

export class StoreSource implements ImageSource {
  readonly name: string;
  private readonly store: ImageStore;
  readonly image: ImageRecord;

  constructor(store: ImageStore, image: ImageRecord, name: string) {
    this.store = store;
    this.image = image;
    this.name = `berth:${name}`;
  }

  async topManifest(): Promise<ManifestBlob> {
    const bytes = await this.store.content.readBlobBytes(this.image.manifestDigest);
    return { bytes, mediaType: this.image.manifestMediaType, digest: this.image.manifestDigest };
  }

  async manifestByDigest(digest: string): Promise<ManifestBlob> {
    const bytes = await this.store.content.readBlobBytes(digest);
    return { bytes, mediaType: this.image.manifestMediaType, digest };
  }

  async blob(desc: Descriptor, offset = 0): Promise<BlobStream> {
    return { stream: await this.store.readBlob(desc.digest, { start: offset }), offset };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface StoreDestinationOptions {
  /** Names to give the image ("host/repo:tag"); none for a digest-only pull. */
  names: string[];
  /** "host/repo@sha256:…" names the manifest is known by. */
  repoDigests?: (manifestDigest: string) => string[];
  /** Told when each blob is complete in the store (the unpacker starts on layers from here). */
  onBlob?: (desc: Descriptor) => void;
  /** Attempts per blob when the connection breaks mid-transfer (each resumes where the last stopped). */
  resumeAttempts?: number;
}

export class StoreDestination implements ImageDestination {
  readonly name: string;
  readonly acceptsDockerManifests = true;
  private readonly store: ImageStore;
  private readonly options: StoreDestinationOptions;
  private readonly lease: ReturnType<ImageStore['lease']>;

  constructor(store: ImageStore, options: StoreDestinationOptions) {
    this.store = store;
    this.options = options;
    this.name = `berth:${options.names[0] ?? '(no name)'}`;
    this.lease = store.lease();
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const info = await this.store.content.info(desc.digest);
    if (info === undefined || info.size !== desc.size) return false;
    this.lease.add(desc.digest);
    this.options.onBlob?.(desc);
    return true;
  }

  async putBlob(desc: Descriptor, open: BlobOpener, ctx: PutBlobContext): Promise<void> {
    this.lease.add(desc.digest);
    const attempts = this.options.resumeAttempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      const writer = await this.store.content.writer(`blob-${desc.digest}`, { digest: desc.digest, size: desc.size });
      try {
        const resumeAt = writer.offset;
        const { stream, offset } = await open(resumeAt);
        if (offset !== resumeAt) await writer.truncate();
        if (writer.offset > 0) ctx.onBytes?.(writer.offset);
        for await (const chunk of stream) {
          const b = chunk as Buffer;
          await writer.write(b);
          ctx.onBytes?.(b.byteLength);
        }
        await writer.commit();
        this.options.onBlob?.(desc);
        return;
      } catch (err) {
        // Keep what arrived when a retry can resume from it; otherwise discard it.
        if (attempt < attempts && isTransient(err) && !isBerthError(err, 'blob_digest_mismatch')) {
          await writer.close();
          continue;
        }
        await writer.close();
        throw err;
      }
    }
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const m = await this.store.content.writeBlob(input.manifest.bytes, { digest: input.manifest.digest });
    this.lease.add(m.digest);
    let index: { digest: string; mediaType: string; size: number } | undefined;
    if (input.index !== undefined) {
      const i = await this.store.content.writeBlob(input.index.bytes, { digest: input.index.digest });
      this.lease.add(i.digest);
      index = { digest: i.digest, mediaType: input.index.mediaType, size: i.size };
    }
    const rec = await this.store.commitImage({
      manifestDigest: m.digest,
      manifestMediaType: input.manifest.mediaType,
      ...(index === undefined ? {} : { index }),
      names: this.options.names,
      repoDigests: this.options.repoDigests?.(index?.digest ?? m.digest) ?? [],
    });
    this.lease.release();
    return { manifestDigest: m.digest, imageId: rec.id };
  }

  close(): Promise<void> {
    this.lease.release();
    return Promise.resolve();
  }
}
