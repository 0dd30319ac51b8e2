/**
 * The image store: a content store for blobs plus the metadata database,
 * both under one data root (default /var/lib/berth). This is the library
 * face other layers use: `readBlob(digest)` for layer streams, `resolve(name)`
 * for image records (manifest, config, layers with their diffIDs).
 */
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../../errors.ts';
import type { ImageConfig, Manifest } from '../../oci/image-spec.ts';
import {
  formatReference,
  LOCAL_DOMAIN,
  parseReference,
  repositoryName,
  withDefaultTag,
  type ImageReference,
  type ReferenceDefaults,
} from '../registry/reference.ts';
import { FileContentStore } from './content.ts';
import { openImageDatabase } from './db.ts';
import { isDigest } from './digest.ts';
import { addLeaseBlob, createLease, releaseLease } from './leases.ts';
import { parseImageConfig, parseManifest } from './manifest.ts';
import { privateDir } from './private-dir.ts';
import * as records from './records.ts';
import { DEFAULT_ROOT } from './default-root.ts';
import type { BlobRef, ImageRecord } from './records.ts';

export type { BlobRef, ImageRecord, LayerRecord } from './records.ts';

export { DEFAULT_ROOT };

export interface OpenOptions {
  root?: string;
  defaults?: ReferenceDefaults;
}

export interface CommitImageInput {
  manifestDigest: string;
  manifestMediaType: string;
  /** The index or manifest list the manifest was chosen from, when there was one. */
  index?: BlobRef;
  names?: string[];
  repoDigests?: string[];
}

export class ImageStore {
  readonly root: string;
  readonly content: FileContentStore;
  readonly db: DatabaseSync;
  readonly defaults: ReferenceDefaults;

  private constructor(root: string, content: FileContentStore, db: DatabaseSync, defaults: ReferenceDefaults) {
    this.root = root;
    this.content = content;
    this.db = db;
    this.defaults = defaults;
  }

  static async open(options: OpenOptions = {}): Promise<ImageStore> {
    const root = options.root ?? DEFAULT_ROOT;
    privateDir(root);
    const content = new FileContentStore(root);
    await content.init();
    const db = openImageDatabase(join(root, 'berth.db'));
    return new ImageStore(root, content, db, options.defaults ?? {});
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  readBlob(digest: string, options?: { start?: number }): Promise<Readable> {
    return this.content.readBlob(digest, options);
  }

  async readManifest(image: ImageRecord): Promise<Manifest> {
    return parseManifest(await this.content.readBlobBytes(image.manifestDigest), image.manifestDigest);
  }

  async readConfig(image: ImageRecord): Promise<ImageConfig> {
    return parseImageConfig(await this.content.readBlobBytes(image.config.digest), image.config.digest);
  }

  /** Parses a user's name into the canonical reference the store keys names by. */
  parseName(name: string): ImageReference {
    return parseReference(name, this.defaults);
  }

  /**
   * Finds an image by full or short ID, by name (tag "latest" when none is
   * given), or by "name@sha256:…". Unqualified names are looked up under the
   * default registry, then under localhost/.
   */
  resolve(input: string): ImageRecord {
    const found = this.tryResolve(input);
    if (found === undefined) throw notFound('image_not_found', `image "${input}": not in the store`);
    return found;
  }

  tryResolve(input: string): ImageRecord | undefined {
    if (isDigest(input)) {
      return records.getImage(this.db, input) ?? this.single(records.imageIdsByManifestDigest(this.db, input), input);
    }
    let ref: ImageReference | undefined;
    try {
      ref = this.parseName(input);
    } catch (err) {
      if (!/^[0-9a-f]{3,64}$/.test(input)) throw err;
    }
    if (ref !== undefined) {
      for (const candidate of this.candidates(ref, input)) {
        const id = this.lookupReference(candidate);
        if (id !== undefined) return records.getImage(this.db, id);
      }
    }
    if (/^[0-9a-f]{3,64}$/.test(input)) return this.single(records.imageIdsByPrefix(this.db, input), input);
    return undefined;
  }

  private candidates(ref: ImageReference, input: string): ImageReference[] {
    const out = [ref];
    // parseReference without defaults puts an unqualified name under localhost/.
    if (ref.implicitDomain && ref.domain !== LOCAL_DOMAIN) out.push(parseReference(input));
    return out;
  }

  private lookupReference(ref: ImageReference): string | undefined {
    if (ref.digest !== undefined) {
      const byRepo = records.imageIdsByRepoDigest(this.db, `${repositoryName(ref)}@${ref.digest}`);
      if (byRepo[0] !== undefined) return byRepo[0];
      return records.imageIdsByManifestDigest(this.db, ref.digest)[0];
    }
    return records.imageIdByName(this.db, formatReference(withDefaultTag(ref)));
  }

  private single(ids: string[], input: string): ImageRecord | undefined {
    if (ids.length > 1) throw invalidArgument('ambiguous_image_id', `image "${input}": matches ${ids.length} images`);
    return ids[0] === undefined ? undefined : records.getImage(this.db, ids[0]);
  }

  list(): ImageRecord[] {
    return records.listImages(this.db);
  }

  get(id: string): ImageRecord | undefined {
    return records.getImage(this.db, id);
  }

  /**
   * Records an image whose manifest, config and layers are already in the
   * content store; reads them back to check that they are there and agree.
   */
  async commitImage(input: CommitImageInput): Promise<ImageRecord> {
    const manifest = parseManifest(await this.content.readBlobBytes(input.manifestDigest), input.manifestDigest);
    const configBytes = await this.content.readBlobBytes(manifest.config.digest);
    const config = parseImageConfig(configBytes, manifest.config.digest);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw invalidArgument(
        'layer_count_mismatch',
        `image ${input.manifestDigest}: manifest has ${manifest.layers.length} layers, config rootfs.diff_ids has ${diffIds.length}`,
      );
    }
    for (const l of manifest.layers) {
      const info = await this.content.info(l.digest);
      if (info === undefined) throw notFound('blob_not_found', `image ${input.manifestDigest}: layer ${l.digest}: not in the store`);
    }
    const img: records.NewImage = {
      id: manifest.config.digest,
      manifestDigest: input.manifestDigest,
      manifestMediaType: input.manifestMediaType,
      manifestSize: (await this.content.info(input.manifestDigest))?.size ?? 0,
      config: { digest: manifest.config.digest, mediaType: manifest.config.mediaType, size: configBytes.byteLength },
      layers: manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i] ?? '' })),
      os: config.os,
      architecture: config.architecture,
      size: configBytes.byteLength + manifest.layers.reduce((n, l) => n + l.size, 0),
      names: (input.names ?? []).map((n) => this.canonicalTagged(n)),
      repoDigests: input.repoDigests ?? [],
    };
    if (config.variant !== undefined) img.variant = config.variant;
    if (config.created !== undefined) img.created = config.created;
    if (input.index !== undefined) {
      img.index = input.index;
      img.indexDigest = input.index.digest;
    }
    records.putImage(this.db, img);
    const rec = records.getImage(this.db, img.id);
    if (rec === undefined) throw notFound('image_not_found', `image ${img.id}: vanished while being recorded`);
    return rec;
  }

  /** "name" → "host/repo:tag" (a digest-only reference is not a tag). */
  canonicalTagged(name: string): string {
    const ref = this.parseName(name);
    if (ref.digest !== undefined && ref.tag === undefined) {
      throw invalidArgument('invalid_tag', `name "${name}": a digest reference cannot be used as a tag`);
    }
    return formatReference(withDefaultTag({ domain: ref.domain, path: ref.path, implicitDomain: ref.implicitDomain, ...(ref.tag === undefined ? {} : { tag: ref.tag }) }));
  }

  tag(image: string, name: string): string {
    const rec = this.resolve(image);
    const canonical = this.canonicalTagged(name);
    records.setName(this.db, canonical, rec.id);
    return canonical;
  }

  addRepoDigest(id: string, name: string): void {
    records.addRepoDigest(this.db, id, name);
  }

  /** Removes one name; false when no image had it. */
  untag(name: string): boolean {
    return records.removeName(this.db, this.canonicalTagged(name));
  }

  /** Deletes an image record (its blobs stay until garbage collection). */
  deleteImage(id: string): boolean {
    return records.deleteImage(this.db, id);
  }

  /** A lease keeps blobs written by an unfinished operation from garbage collection. */
  lease(): { id: string; add: (digest: string) => void; release: () => void } {
    const id = createLease(this.db);
    return {
      id,
      add: (digest: string) => addLeaseBlob(this.db, id, digest),
      release: () => releaseLease(this.db, id),
    };
  }
}
