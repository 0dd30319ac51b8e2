/**
 * What every transport offers the copy engine: an ImageSource to read an
 * image from (a registry, an OCI layout, an archive, the store) and an
 * ImageDestination to write one to. Blobs cross as streams; a destination
 * verifies digests itself before anything becomes visible.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../../oci/image-spec.ts';

export interface ManifestBlob {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface BlobStream {
  stream: Readable;
  /** Where the stream starts in the blob (0 when a requested offset could not be honoured). */
  offset: number;
}

/** When a blob's transfer began: retries and resumptions of it share one deadline. */
export interface TransferStart {
  startedAt: number;
}

/** Opens a blob from byte `offset`; called again after a broken transfer to resume. */
export type BlobOpener = (offset: number) => Promise<BlobStream>;

export interface ImageSource {
  /** Names the source in messages ("docker://127.0.0.1:5000/app:v1"). */
  readonly name: string;
  /** Registry and repository, when the source is one (a hint for cross-repository mounts). */
  readonly registryRepo?: { registry: string; repo: string };
  /** The manifest the reference names: an image manifest, or an index to choose from. */
  topManifest(): Promise<ManifestBlob>;
  /** A manifest by digest (an index's child). */
  manifestByDigest(digest: string): Promise<ManifestBlob>;
  blob(desc: Descriptor, offset?: number, transfer?: TransferStart): Promise<BlobStream>;
  close(): Promise<void>;
}

export interface PutBlobContext {
  /** Called with the number of new bytes as they arrive. */
  onBytes?: (n: number) => void;
  /** For layers: the diffID the config gives it (docker-archive stores layers uncompressed under it). */
  diffId?: string;
}

export interface CommitInput {
  manifest: ManifestBlob;
  /** The index the manifest was chosen from, when it came from one. */
  index?: ManifestBlob;
}

export interface ImageDestination {
  readonly name: string;
  /** False for OCI layouts: Docker manifests are converted to OCI ones on the way in. */
  readonly acceptsDockerManifests: boolean;
  hasBlob(desc: Descriptor): Promise<boolean>;
  /** Links a blob the registry already holds in another repository; true when done. */
  tryMount?(desc: Descriptor, from: { registry: string; repo: string }): Promise<boolean>;
  putBlob(desc: Descriptor, open: BlobOpener, ctx: PutBlobContext): Promise<void>;
  /** Stores a manifest by digest only, untagged (the children of an index copied whole). */
  putManifest?(manifest: ManifestBlob): Promise<void>;
  /** Writes the manifest (and makes the image visible under the destination's name). */
  commit(input: CommitInput): Promise<CommitResult>;
  close(): Promise<void>;
}

export interface CommitResult {
  manifestDigest: string;
  /** The store's image ID, when the destination is the store. */
  imageId?: string;
}
